package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// ApplicationError types returned by the activities. The workflow can match
// them with temporal.ApplicationError.Type(); the non-retryable ones are
// already marked NonRetryable, so retry policies need not list them.
const (
	// ErrTypeSalesforcePermanent: Salesforce refused the call for good (400,
	// 403, 404, 413, 415, unverified subject, invalid request).
	ErrTypeSalesforcePermanent = workflows.ErrTypeSalesforcePermanent
	// ErrTypeSessionEnded: 417, the messaging session has ended (the agent
	// or Salesforce ended it); not retried, and no new session is started.
	ErrTypeSessionEnded = "SessionEnded"
	// ErrTypeSalesforceRetryable: 408/429/5xx or a network failure; retried,
	// after Retry-After when Salesforce sent one.
	ErrTypeSalesforceRetryable = "SalesforceRetryable"
	// ErrTypeInvalidInput: the activity input is missing a required field.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeAttachmentTooLarge: an attachment is over its size limit (ours,
	// or Salesforce's 413 for a user file, with Salesforce's message).
	ErrTypeAttachmentTooLarge = workflows.ErrTypeAttachmentTooLarge
	// ErrTypeUnsupportedFileType: Salesforce refused a user file's type (415),
	// with Salesforce's message.
	ErrTypeUnsupportedFileType = workflows.ErrTypeUnsupportedFileType
	// ErrTypeAttachmentNotFound: the attachment store has no such content.
	ErrTypeAttachmentNotFound = "AttachmentNotFound"
	// ErrTypeStorage: the attachment store failed (retryable).
	ErrTypeStorage = "AttachmentStoreError"
	// ErrTypeDeliveryRejected: the assistant webhook answered 4xx (not 408/429).
	ErrTypeDeliveryRejected = "DeliveryRejected"
	// ErrTypeDeliveryFailed: the assistant webhook failed transiently (retryable).
	ErrTypeDeliveryFailed = "DeliveryFailed"
	// ErrTypeSignalFailed: the listener cannot signal its workflow for good
	// (permission denied, namespace gone).
	ErrTypeSignalFailed = "SignalFailed"
	// ErrTypeStreamEnded: the SSE stream ended without being cancelled
	// (retryable; the retry resumes from the heartbeated cursor).
	ErrTypeStreamEnded = "StreamEnded"
)

// salesforceError converts an error of a miaw call into what an activity
// returns:
//   - the activity context ended: the context error itself (cancellation);
//   - a retryable *miaw.Error (408/425/429/5xx/network) or a per-call
//     timeout: a retryable ApplicationError whose NextRetryDelay is the
//     Retry-After hint;
//   - 417 (the messaging session has ended): non-retryable ErrTypeSessionEnded;
//   - everything else (permanent statuses, ErrUnverifiedSubject,
//     ErrInvalidRequest, ErrAttachmentTooLarge, unknown errors): a
//     non-retryable ApplicationError.
//
// The message is "<op>: <miaw error>" with anything token-like redacted, and
// the cause is not attached, so nothing secret can reach workflow history.
func salesforceError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	msg := op + ": " + redact(err.Error())
	if errors.Is(err, miaw.ErrAttachmentTooLarge) {
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeAttachmentTooLarge, nil)
	}
	if miaw.IsStatus(err, http.StatusExpectationFailed) {
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeSessionEnded, nil)
	}
	// A deadline while the activity context is still live is a per-call
	// timeout inside the client: worth another attempt.
	if miaw.IsRetryable(err) || errors.Is(err, context.DeadlineExceeded) {
		return retryableError(msg, ErrTypeSalesforceRetryable, miaw.RetryAfter(err))
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeSalesforcePermanent, nil)
}

// fileError is salesforceError for a user file sent to Salesforce: its 413
// (too large) and 415 (type refused) become non-retryable
// ErrTypeAttachmentTooLarge and ErrTypeUnsupportedFileType, so the assistant
// gets 413 / 415 with Salesforce's message rather than a conflict.
func fileError(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil {
		switch {
		case miaw.IsStatus(err, http.StatusRequestEntityTooLarge):
			return temporal.NewNonRetryableApplicationError(op+": "+redact(err.Error()), ErrTypeAttachmentTooLarge, nil)
		case miaw.IsStatus(err, http.StatusUnsupportedMediaType):
			return temporal.NewNonRetryableApplicationError(op+": "+redact(err.Error()), ErrTypeUnsupportedFileType, nil)
		}
	}
	return salesforceError(ctx, op, err)
}

func retryableError(msg, errType string, retryAfter time.Duration) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NextRetryDelay: retryAfter,
	})
}

func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeInvalidInput, nil)
}

// alreadyDone reports whether err means the thing we asked for is already in
// the requested state: 404 (gone), 409 (conflict: already exists / already
// done), and 400 or 417 whose message says "already", "closed" or "ended".
// EndConversation treats these as success, and so do the create/send calls
// for 409 (a retry of a call whose answer was lost).
func alreadyDone(err error) bool {
	var e *miaw.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusNotFound, http.StatusConflict:
		return true
	case http.StatusBadRequest, http.StatusExpectationFailed:
		m := strings.ToLower(e.Message)
		return strings.Contains(m, "already") || strings.Contains(m, "closed") || strings.Contains(m, "ended")
	}
	return false
}

// tokenLike matches bearer credentials and JWT-shaped strings.
var tokenLike = regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// redact removes anything that looks like a credential from s. miaw errors
// never carry tokens by design; this is a second line of defence because the
// message ends up in workflow history.
func redact(s string) string {
	return tokenLike.ReplaceAllString(s, "[redacted]")
}
