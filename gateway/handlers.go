package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"go.temporal.io/api/serviceerror"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// multipartMemory is how much of an upload is kept in memory; the rest
// spills to a temporary file removed when the request ends.
const multipartMemory = 1 << 20

func (g *Gateway) listTopics(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, TopicsResponse{Topics: g.topics})
}

func (g *Gateway) startSession(w http.ResponseWriter, r *http.Request) {
	var req StartSessionRequest
	if err := decodeJSON(r, &req, false); err != nil {
		g.fail(w, r, err)
		return
	}
	start := starter.StartRequest{
		UserID: req.UserID, Topic: req.Topic, Description: req.Description, Locale: req.Locale, Summary: req.Summary,
	}
	for _, e := range req.History {
		h := starter.HistoryEntry{From: e.From, Text: e.Text}
		if e.At != nil {
			h.At = *e.At
		}
		start.History = append(start.History, h)
	}
	s, err := g.sessions.Start(r.Context(), start)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	resp := StartSessionResponse{WorkflowID: s.WorkflowID, RunID: s.RunID, Existing: s.Existing, ContextWithheld: s.ContextWithheld}
	if g.workflowURL != nil {
		resp.WebUIURL = g.workflowURL(s.WorkflowID)
	}
	status := http.StatusCreated
	if s.Existing {
		status = http.StatusOK
	}
	writeJSON(w, status, resp)
}

func (g *Gateway) listSessions(w http.ResponseWriter, r *http.Request) {
	list, err := g.sessions.ListOpen(r.Context())
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, summaries(list))
}

func (g *Gateway) sessionState(w http.ResponseWriter, r *http.Request) {
	view, err := g.sessions.StateOfRun(r.Context(), r.PathValue("userId"), r.URL.Query().Get("runId"))
	if err != nil {
		g.fail(w, r, err)
		return
	}
	out := stateResponse(view)
	if g.links != nil {
		for _, e := range out.Transcript {
			if a := e.Attachment; a != nil && a.URL != "" && attachstore.ValidKey(a.SHA256) {
				a.URL = g.links.Sign(a.URL, a.SHA256)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) sendMessage(w http.ResponseWriter, r *http.Request) {
	var req SendMessageRequest
	if err := decodeJSON(r, &req, false); err != nil {
		g.fail(w, r, err)
		return
	}
	var (
		res workflows.UpdateResult
		err error
	)
	if c := req.Choice; c != nil {
		if strings.TrimSpace(c.InReplyTo) == "" || strings.TrimSpace(c.OptionID) == "" {
			g.fail(w, r, &requestError{status: http.StatusUnprocessableEntity,
				msg: "choice needs inReplyTo (the agent message's id) and optionId (one of its options' ids)"})
			return
		}
		res, err = g.sessions.SendChoice(r.Context(), r.PathValue("userId"), req.MessageID, req.Text,
			workflows.ChoiceReply{InReplyTo: c.InReplyTo, OptionID: c.OptionID})
	} else {
		res, err = g.sessions.SendMessage(r.Context(), r.PathValue("userId"), req.MessageID, req.Text)
	}
	if err != nil {
		g.fail(w, r, g.closedSession(r, err))
		return
	}
	writeJSON(w, http.StatusOK, updateResponse(res))
}

func (g *Gateway) closeSession(w http.ResponseWriter, r *http.Request) {
	var req CloseRequest
	if err := decodeJSON(r, &req, true); err != nil {
		g.fail(w, r, err)
		return
	}
	res, err := g.sessions.Close(r.Context(), r.PathValue("userId"), req.RequestID, req.Reason)
	if err != nil {
		if errors.Is(g.closedSession(r, err), errSessionClosed) {
			// Closing a finished session is what the caller wanted (and what a
			// retried close sees once the workflow has completed).
			writeJSON(w, http.StatusOK, UpdateResponse{Status: string(workflows.UpdateClosed)})
			return
		}
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updateResponse(res))
}

// sendAttachment takes a multipart/form-data body with the fields messageId
// and caption (optional) and one file part named "file". The part's
// Content-Type is the file's MIME type; when absent it is sniffed.
func (g *Gateway) sendAttachment(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		g.fail(w, r, &requestError{status: http.StatusUnsupportedMediaType,
			msg: "content type must be multipart/form-data with the fields messageId, caption and file"})
		return
	}
	if err := r.ParseMultipartForm(multipartMemory); err != nil {
		if e := tooLarge(err); e != nil {
			g.fail(w, r, e)
			return
		}
		g.fail(w, r, badRequest("malformed multipart body: %v", err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	form := r.MultipartForm
	for field := range form.Value {
		if field != "messageId" && field != "caption" {
			g.fail(w, r, badRequest("unknown form field %q (want messageId, caption, file)", field))
			return
		}
	}
	files := form.File["file"]
	if len(files) != 1 {
		g.fail(w, r, badRequest("exactly one file part named \"file\" is required, got %d", len(files)))
		return
	}
	fh := files[0]
	f, err := fh.Open()
	if err != nil {
		g.fail(w, r, fmt.Errorf("open uploaded file: %w", err))
		return
	}
	defer f.Close()

	content := bufio.NewReaderSize(f, 512)
	mimeType := fh.Header.Get("Content-Type")
	if mimeType == "" {
		head, _ := content.Peek(512)
		mimeType = http.DetectContentType(head)
	}
	res, err := g.sessions.SendAttachment(r.Context(), r.PathValue("userId"),
		formValue(form.Value, "messageId"), fh.Filename, mimeType, formValue(form.Value, "caption"), content)
	if err != nil {
		g.fail(w, r, g.closedSession(r, err))
		return
	}
	writeJSON(w, http.StatusOK, updateResponse(res))
}

// attachmentAccess guards GET /v1/attachments/{sha256}: a request with an
// Authorization header, or without a signed link's parameters (expires,
// sig), needs the bearer token; any other is served when the link is genuine
// and unexpired (403 with the reason otherwise, also when signed links are
// not configured).
func (g *Gateway) attachmentAccess(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Header.Get("Authorization") != "" || (!q.Has(attachstore.LinkSignatureParam) && !q.Has(attachstore.LinkExpiresParam)) {
		g.auth(g.getAttachment).ServeHTTP(w, r)
		return
	}
	if g.links == nil {
		refuse(w, r, http.StatusForbidden, "signed links are not enabled (attachments.link_secret); use the bearer token")
		return
	}
	sum := r.PathValue("sha256")
	if !attachstore.ValidKey(sum) {
		refuse(w, r, http.StatusBadRequest, "attachment id must be a lowercase hex SHA-256 (64 characters)")
		return
	}
	if err := g.links.Verify(sum, q.Get(attachstore.LinkExpiresParam), q.Get(attachstore.LinkSignatureParam)); err != nil {
		refuse(w, r, http.StatusForbidden, err.Error())
		return
	}
	g.getAttachment(w, r)
}

// getAttachment serves a stored file as a download. The store keeps bytes
// only; the AttachmentRef carries name and type, which the caller may pass
// back as ?name= and ?type= for a friendlier download. Types a browser would
// execute or render as a page are served as application/octet-stream.
func (g *Gateway) getAttachment(w http.ResponseWriter, r *http.Request) {
	sum := r.PathValue("sha256")
	if !attachstore.ValidKey(sum) {
		g.fail(w, r, badRequest("attachment id must be a lowercase hex SHA-256 (64 characters)"))
		return
	}
	if g.files == nil {
		g.fail(w, r, &requestError{status: http.StatusNotFound, msg: "no attachment store configured"})
		return
	}
	rc, size, err := g.files.Open(sum)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	defer rc.Close()
	content := bufio.NewReaderSize(rc, 512)

	contentType := ""
	if t := r.URL.Query().Get("type"); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil && strings.Contains(mt, "/") {
			contentType = mt
		}
	}
	if contentType == "" {
		head, _ := content.Peek(512)
		contentType = http.DetectContentType(head)
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "attachment-" + sum[:12]
	}
	w.Header().Set("Content-Type", safeContentType(contentType))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": attachstore.SanitizeFilename(name)}))
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("ETag", `"`+sum+`"`)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, content); err != nil {
		g.log.Warn("gateway: serve attachment", "sha256", sum, "error", err)
	}
}

// activeTypes would be rendered or executed by a browser opening the URL.
var activeTypes = map[string]bool{
	"text/html": true, "application/xhtml+xml": true, "image/svg+xml": true,
	"text/xml": true, "application/xml": true, "text/javascript": true,
	"application/javascript": true, "application/ecmascript": true, "text/css": true,
}

func safeContentType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || activeTypes[mt] {
		return "application/octet-stream"
	}
	return mime.FormatMediaType(mt, params)
}

func formValue(values map[string][]string, key string) string {
	if v := values[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// errSessionClosed is answered 409: the user's latest session has finished.
var errSessionClosed = errors.New("the session is closed")

// closedSession tells "never started" from "finished" when an update found
// no running session: a finished session is a conflict (409), not a 404.
func (g *Gateway) closedSession(r *http.Request, err error) error {
	if !errors.Is(err, starter.ErrNoSession) {
		return err
	}
	view, stateErr := g.sessions.StateOfRun(r.Context(), r.PathValue("userId"), "")
	if stateErr != nil || view.State != workflows.StateClosed {
		return err
	}
	msg := errSessionClosed.Error()
	if view.CloseReason != "" {
		msg += " (" + string(view.CloseReason) + ")"
	}
	return &conflictError{msg: msg}
}

type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }
func (e *conflictError) Unwrap() error { return errSessionClosed }

// fail maps an error to its HTTP answer. Validation errors carry their
// reason; unexpected ones are logged and answered without internals.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	// The body may be partly unread (dropUnreadBody says why that matters).
	dropUnreadBody(w, r)
	var reqErr *requestError
	var unavailable *serviceerror.Unavailable
	var rejected *starter.RejectedError
	var offline *starter.OfflineError
	switch {
	case errors.As(err, &offline):
		writeOffline(w, offline)
	case errors.As(err, &reqErr):
		writeError(w, reqErr.status, reqErr.msg)
	case tooLarge(err) != nil:
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge(err).Error())
	case errors.Is(err, starter.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, starter.ErrInvalid):
		writeError(w, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), starter.ErrInvalid.Error()+": "))
	case errors.Is(err, starter.ErrNoSession):
		writeError(w, http.StatusNotFound, "no live-agent session for this user")
	case errors.As(err, &rejected):
		// Only the root cause: the full error names the activity, event
		// ids and the worker's pid and host.
		g.log.Info("gateway: update rejected", "method", r.Method, "path", r.URL.Path, "error", rejected.Err)
		writeError(w, rejectionStatus(rejected.Type), rejected.Reason)
	case errors.Is(err, starter.ErrRejected), errors.Is(err, errSessionClosed):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, attachstore.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such attachment")
	case errors.Is(err, attachstore.ErrInvalidKey):
		writeError(w, http.StatusBadRequest, "attachment id must be a lowercase hex SHA-256 (64 characters)")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		g.log.Debug("gateway: request cancelled", "method", r.Method, "path", r.URL.Path)
	case errors.Is(err, context.DeadlineExceeded):
		g.log.Warn("gateway: timeout", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusGatewayTimeout, "timed out waiting for the session")
	case errors.As(err, &unavailable):
		g.log.Warn("gateway: temporal unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusServiceUnavailable, "session service unavailable, retry later")
	default:
		g.log.Error("gateway: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// rejectionStatus is the answer to an update the session refused or failed,
// by the root cause's type: Salesforce's 413 and 415 for a user file stay
// 413 and 415; a choice the agent did not offer is 422; anything else is a
// conflict (409).
func rejectionStatus(errType string) int {
	switch errType {
	case activities.ErrTypeAttachmentTooLarge:
		return http.StatusRequestEntityTooLarge
	case activities.ErrTypeUnsupportedFileType:
		return http.StatusUnsupportedMediaType
	case workflows.ErrTypeInvalidChoice, workflows.ErrTypeInvalidSurvey:
		return http.StatusUnprocessableEntity
	}
	return http.StatusConflict
}
