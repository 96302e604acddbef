package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// DownloadAttachment fetches a file the agent shared, stores it by content
// hash and returns the reference shown to the user
// (workflows.ActivityDownloadAttachment). The miaw client enforces its own
// host allow-list, size cap (attachments.max_download_bytes) and timeout;
// Activities.MaxDownloadBytes (when > 0) is enforced again while storing.
// in.MaxSize is not: the workflow fills it with session.max_attachment_bytes,
// the limit of user uploads (Salesforce takes at most 5 MB from an end
// user), which is not a limit on what an agent shares. Over the limit is a
// non-retryable ErrTypeAttachmentTooLarge.
// The returned URL is AttachmentBaseURL + "/" + sha256; the name is
// sanitised. Downloading the same file twice stores it once. Each failed
// attempt counts in MetricAttachmentFailures{direction="agent_to_user"}.
func (a *Activities) DownloadAttachment(ctx context.Context, in workflows.DownloadInput) (_ workflows.AttachmentRef, err error) {
	defer func() { countAttachmentFailure(ctx, DirectionAgentToUser, err) }()
	if in.UserID == "" {
		return workflows.AttachmentRef{}, invalidInput("download attachment: UserID is required")
	}
	if in.Attachment.URL == "" {
		return workflows.AttachmentRef{}, invalidInput("download attachment: Attachment.URL is required")
	}
	if a.Store == nil {
		return workflows.AttachmentRef{}, invalidInput("download attachment: no attachment store configured")
	}
	dl, err := a.SF.DownloadAttachment(ctx, in.UserID, miaw.Attachment{
		ID:       in.Attachment.ID,
		Name:     in.Attachment.Name,
		MimeType: in.Attachment.MimeType,
		URL:      in.Attachment.URL,
	})
	if err != nil {
		return workflows.AttachmentRef{}, salesforceError(ctx, "download attachment", err)
	}
	if dl == nil {
		return workflows.AttachmentRef{}, retryableError("download attachment: empty result", ErrTypeSalesforceRetryable, 0)
	}
	sum, size, err := a.Store.Put(bytes.NewReader(dl.Data), a.MaxDownloadBytes)
	if errors.Is(err, attachstore.ErrTooLarge) {
		return workflows.AttachmentRef{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("download attachment %q: %d bytes is over the limit of %d", in.Attachment.Name, len(dl.Data), a.MaxDownloadBytes),
			ErrTypeAttachmentTooLarge, nil)
	}
	if err != nil {
		return workflows.AttachmentRef{}, retryableError("download attachment: "+err.Error(), ErrTypeStorage, 0)
	}
	name := firstNonEmpty(dl.Name, in.Attachment.Name)
	mimeType := firstNonEmpty(dl.MimeType, in.Attachment.MimeType)
	if mimeType == "" {
		mimeType = http.DetectContentType(dl.Data)
	}
	return workflows.AttachmentRef{
		Name:     attachstore.SanitizeFilename(name),
		MimeType: mimeType,
		Size:     size,
		SHA256:   sum,
		URL:      AttachmentURL(a.AttachmentBaseURL, sum),
	}, nil
}

// AttachmentURL is where a stored attachment is served: base + "/" + sha256
// (a trailing slash on base is ignored).
func AttachmentURL(base, sha256hex string) string {
	return strings.TrimRight(base, "/") + "/" + sha256hex
}

// DeliverToUser hands one Delivery to the configured Sink
// (workflows.ActivityDeliver), its attachment link signed and expiring when
// Activities.Links is set (each attempt signs afresh; the workflow's input
// keeps the plain URL). Sinks are idempotent on Delivery.ID. A
// *DeliveryError from the sink decides retrying: permanent ones are
// non-retryable (ErrTypeDeliveryRejected), others retryable
// (ErrTypeDeliveryFailed) after the receiver's Retry-After.
func (a *Activities) DeliverToUser(ctx context.Context, d workflows.Delivery) error {
	if d.ID == "" {
		return invalidInput("deliver: Delivery.ID is required")
	}
	if a.Sink == nil {
		return invalidInput("deliver: no sink configured")
	}
	if a.Links != nil && d.Attachment != nil && attachstore.ValidKey(d.Attachment.SHA256) {
		signed := *d.Attachment
		signed.URL = a.Links.Sign(signed.URL, signed.SHA256)
		d.Attachment = &signed
	}
	err := a.Sink.Deliver(ctx, d)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("deliver: %w", ctx.Err())
	}
	msg := "deliver " + d.ID + ": " + redact(err.Error())
	var de *DeliveryError
	if errors.As(err, &de) {
		if de.Permanent {
			return temporal.NewNonRetryableApplicationError(msg, ErrTypeDeliveryRejected, nil)
		}
		return retryableError(msg, ErrTypeDeliveryFailed, de.RetryAfter)
	}
	return retryableError(msg, ErrTypeDeliveryFailed, 0)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
