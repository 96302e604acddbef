package miaw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Download is a downloaded agent attachment.
type Download struct {
	Name     string // att.Name, else the Content-Disposition filename, else the URL's last segment
	MimeType string // att.MimeType, else Content-Type, else sniffed
	Data     []byte
}

const maxRedirects = 5

// DownloadAttachment fetches an agent attachment. The URL (and every
// redirect) must be https (http only with AllowAnyHost) on BaseURL's host
// or one of AttachmentHosts. The body is capped at MaxDownloadBytes
// (ErrAttachmentTooLarge) and the whole download at DownloadTimeout. It first
// tries without credentials (attachment URLs are normally pre-signed) and,
// on 401/403, once more with userID's bearer token (renewed once if that
// gets 401). Errors never include
// the URL's query (it may hold a signature).
func (c *Client) DownloadAttachment(ctx context.Context, userID string, att Attachment) (*Download, error) {
	const op = "download attachment"
	u, err := url.Parse(att.URL)
	if err != nil || u.Host == "" {
		return nil, invalidf(op, "attachment %q has no absolute URL", truncate(att.ID, 64))
	}
	if err := c.checkDownloadURL(u); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRequest, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DownloadTimeout)
	defer cancel()

	hc := *c.stream // no overall timeout of its own; ctx bounds it
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// A refused redirect is permanent (ErrInvalidRequest): retrying
		// would be refused the same way.
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects", ErrInvalidRequest, maxRedirects)
		}
		if err := c.checkDownloadURL(req.URL); err != nil {
			return fmt.Errorf("%w: redirect refused: %v", ErrInvalidRequest, err)
		}
		return nil
	}
	endpoint := u.Host + u.EscapedPath()

	d, status, err := c.fetch(ctx, &hc, op, endpoint, u, "")
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		tok, terr := c.Token(ctx, userID)
		if terr != nil {
			return nil, fmt.Errorf("miaw: %s: %w", op, terr)
		}
		d, status, err = c.fetch(ctx, &hc, op, endpoint, u, tok.AccessToken)
		if status == http.StatusUnauthorized { // our token expired meanwhile: once more with a fresh one
			c.dropToken(userID, tok.AccessToken)
			if tok, terr = c.Token(ctx, userID); terr != nil {
				return nil, fmt.Errorf("miaw: %s: %w", op, terr)
			}
			d, _, err = c.fetch(ctx, &hc, op, endpoint, u, tok.AccessToken)
		}
	}
	if err != nil {
		return nil, err
	}
	if att.Name != "" {
		d.Name = att.Name
	}
	if att.MimeType != "" {
		d.MimeType = att.MimeType
	}
	if d.Name == "" {
		d.Name = path.Base(u.Path)
		if d.Name == "/" || d.Name == "." {
			d.Name = "attachment"
		}
	}
	if d.MimeType == "" {
		d.MimeType = http.DetectContentType(d.Data)
	}
	return d, nil
}

// fetch GETs u once. It returns the status (0 on transport errors).
func (c *Client) fetch(ctx context.Context, hc *http.Client, op, endpoint string, u *url.URL, accessToken string) (*Download, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, &Error{Op: op, Method: http.MethodGet, Endpoint: endpoint, Err: err}
	}
	req.Header.Set("User-Agent", userAgent)
	if accessToken != "" {
		// Go drops Authorization on redirects to another host; the
		// allow-list check still applies to every hop.
		req.Header.Set("Authorization", "Bearer "+accessToken)
		req.Header.Set("X-Org-Id", c.orgID)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, 0, &Error{Op: op, Method: http.MethodGet, Endpoint: endpoint, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, errorFromResponse(op, http.MethodGet, endpoint, resp)
	}
	limit := c.cfg.MaxDownloadBytes
	if resp.ContentLength > limit {
		return nil, resp.StatusCode, fmt.Errorf("%w: %s: %s: %d bytes exceeds the %d-byte cap", ErrAttachmentTooLarge, op, endpoint, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, resp.StatusCode, &Error{Op: op, Method: http.MethodGet, Endpoint: endpoint, Status: 0, Err: fmt.Errorf("read body: %w", err)}
	}
	if int64(len(data)) > limit {
		return nil, resp.StatusCode, fmt.Errorf("%w: %s: %s: more than the %d-byte cap", ErrAttachmentTooLarge, op, endpoint, limit)
	}
	d := &Download{Data: data}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			d.MimeType = mt
		}
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			d.Name = path.Base(strings.ReplaceAll(params["filename"], "\\", "/"))
			if d.Name == "." || d.Name == "/" {
				d.Name = ""
			}
		}
	}
	return d, resp.StatusCode, nil
}

// checkDownloadURL enforces the scheme and host allow-list.
func (c *Client) checkDownloadURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.cfg.AllowAnyHost:
	default:
		return fmt.Errorf("attachment URL scheme %q is not allowed", u.Scheme)
	}
	if u.User != nil {
		return errors.New("attachment URL must not carry credentials")
	}
	if !c.downloadHostAllowed(u) {
		return fmt.Errorf("attachment host %q is not allowed (add it to attachment_hosts)", u.Hostname())
	}
	return nil
}

// downloadHostAllowed: BaseURL's host:port, or an AttachmentHosts entry.
// An entry "host" or "*.domain" matches on the scheme's default port only;
// "host:port" matches that port exactly.
func (c *Client) downloadHostAllowed(u *url.URL) bool {
	base, err := url.Parse(c.base)
	if err == nil && strings.EqualFold(u.Host, base.Host) {
		return true
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := u.Port()
	defaultPort := port == "" || (port == "443" && u.Scheme == "https") || (port == "80" && u.Scheme == "http")
	for _, pattern := range c.cfg.AttachmentHosts {
		pattern = strings.ToLower(pattern)
		pHost, pPort := splitHostPattern(pattern)
		if pPort != "" {
			if port != pPort {
				continue
			}
		} else if !defaultPort {
			continue
		}
		if rest, ok := strings.CutPrefix(pHost, "*."); ok {
			if strings.HasSuffix(host, "."+rest) {
				return true
			}
			continue
		}
		if host == pHost {
			return true
		}
	}
	return false
}
