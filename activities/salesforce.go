package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// StreamPosition returns the user's current SSE stream position, the access
// token's lastEventId (workflows.ActivityStreamPosition). The workflow takes
// it before creating the conversation, so the listener it starts from there
// sees every routing and accept event, however often the create is retried.
func (a *Activities) StreamPosition(ctx context.Context, in workflows.StreamPositionInput) (workflows.StreamPositionResult, error) {
	if in.UserID == "" {
		return workflows.StreamPositionResult{}, invalidInput("stream position: UserID is required")
	}
	tok, err := a.SF.Token(ctx, in.UserID)
	if err != nil {
		return workflows.StreamPositionResult{}, salesforceError(ctx, "stream position: access token", err)
	}
	return workflows.StreamPositionResult{LastEventID: tok.LastEventID}, nil
}

// CreateConversation creates the Salesforce conversation with its routing
// attributes (workflows.ActivityCreateConversation). The conversation id is
// chosen by the workflow, so a retry creates the same conversation; a 409 on a
// retry (it already exists) counts as success.
func (a *Activities) CreateConversation(ctx context.Context, in workflows.CreateConversationInput) (workflows.CreateConversationResult, error) {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return workflows.CreateConversationResult{}, err
	}
	// The stream position before the conversation exists: the listener
	// starts from it, so no routing or accept event can fall before it.
	tok, err := a.SF.Token(ctx, in.UserID)
	if err != nil {
		return workflows.CreateConversationResult{}, salesforceError(ctx, "create conversation: access token", err)
	}
	result := workflows.CreateConversationResult{LastEventID: tok.LastEventID}
	err = a.SF.CreateConversation(ctx, in.UserID, miaw.CreateConversationRequest{
		ConversationID:    in.ConversationID,
		RoutingAttributes: in.RoutingAttributes,
		Language:          in.Language,
	})
	if isConflict(err) {
		a.logger().Info("conversation already exists; treating create as done", "conversation_id", in.ConversationID)
		return result, nil
	}
	if err != nil {
		return workflows.CreateConversationResult{}, salesforceError(ctx, "create conversation", err)
	}
	return result, nil
}

// SendMessage sends the user's text (workflows.ActivitySendMessage). The MIAW
// message id is in.MessageID, so a retried send is the same message. A 417
// (the messaging session has ended) fails with ErrTypeSessionEnded: a live
// chat ends with its session, so no new session is started (it would be
// routed to an agent again) and the workflow closes on the session's end
// event.
func (a *Activities) SendMessage(ctx context.Context, in workflows.SendMessageInput) (workflows.SendResult, error) {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return workflows.SendResult{}, err
	}
	if in.MessageID == "" {
		return workflows.SendResult{}, invalidInput("send message: MessageID is required")
	}
	if strings.TrimSpace(in.Text) == "" {
		return workflows.SendResult{}, invalidInput("send message: Text is empty")
	}
	var (
		res  *miaw.SendResult
		err  error
		sent bool
	)
	if in.Choice != nil {
		res, sent, err = a.sendChoice(ctx, in)
	}
	if !sent {
		res, err = a.SF.SendMessage(ctx, in.UserID, in.ConversationID, miaw.TextMessage{
			ID:           in.MessageID,
			Text:         in.Text,
			Language:     in.Language,
			NoNewSession: true,
		})
	}
	if isConflict(err) {
		a.logger().Info("message already sent", "conversation_id", in.ConversationID, "message_id", in.MessageID)
		return workflows.SendResult{}, nil
	}
	if err != nil {
		return workflows.SendResult{}, salesforceError(ctx, "send message", err)
	}
	return workflows.SendResult{EntryID: res.EntryID}, nil
}

// SendAttachment uploads a file the user shared (workflows.ActivitySendAttachment).
// The bytes come from the attachment store by Attachment.SHA256; the file name
// is sanitised; the MIAW file id is derived from MessageID (FileIDFor) so a
// retried upload is the same file; a 417 fails as in SendMessage. Each failed attempt counts in
// MetricAttachmentFailures{direction="user_to_agent"}.
func (a *Activities) SendAttachment(ctx context.Context, in workflows.SendAttachmentInput) (_ workflows.SendResult, err error) {
	defer func() { countAttachmentFailure(ctx, DirectionUserToAgent, err) }()
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return workflows.SendResult{}, err
	}
	if in.MessageID == "" {
		return workflows.SendResult{}, invalidInput("send attachment: MessageID is required")
	}
	if a.Store == nil {
		return workflows.SendResult{}, invalidInput("send attachment: no attachment store configured")
	}
	att := in.Attachment
	rc, size, err := a.Store.Open(att.SHA256)
	switch {
	case errors.Is(err, attachstore.ErrNotFound), errors.Is(err, attachstore.ErrInvalidKey):
		return workflows.SendResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("send attachment: %v", err), ErrTypeAttachmentNotFound, nil)
	case err != nil:
		return workflows.SendResult{}, retryableError(fmt.Sprintf("send attachment: %v", err), ErrTypeStorage, 0)
	}
	defer rc.Close()
	if att.Size > 0 && size != att.Size {
		return workflows.SendResult{}, invalidInput("send attachment: stored size %d does not match announced size %d", size, att.Size)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		return workflows.SendResult{}, retryableError(fmt.Sprintf("send attachment: read %s: %v", att.SHA256, err), ErrTypeStorage, 0)
	}
	mimeType := att.MimeType
	if mimeType == "" {
		mimeType = http.DetectContentType(data)
	}
	res, err := a.SF.SendFile(ctx, in.UserID, in.ConversationID, miaw.File{
		MessageID:    in.MessageID,
		FileID:       FileIDFor(in.MessageID),
		Name:         attachstore.SanitizeFilename(att.Name),
		MimeType:     mimeType,
		Caption:      att.Caption,
		Data:         data,
		Language:     in.Language,
		NoNewSession: true,
	})
	if isConflict(err) {
		a.logger().Info("file already sent", "conversation_id", in.ConversationID, "message_id", in.MessageID)
		return workflows.SendResult{}, nil
	}
	if err != nil {
		return workflows.SendResult{}, fileError(ctx, "send attachment", err)
	}
	return workflows.SendResult{EntryID: res.EntryID}, nil
}

// fileIDNamespace scopes FileIDFor's name-based UUIDs.
var fileIDNamespace = uuid.MustParse("5b0c3c9e-2f7e-4a55-9a53-4c1e7f1d2a60")

// FileIDFor is the MIAW file id used for the attachment sent with messageID:
// a name-based (v5) UUID, the same on every retry.
func FileIDFor(messageID string) string {
	return uuid.NewSHA1(fileIDNamespace, []byte(messageID)).String()
}

// EndConversation ends the messaging session and then closes the conversation
// (workflows.ActivityEndConversation). Both steps are always attempted, even if
// the first fails; "already ended/closed" answers (404, 409, or a 400/417 that
// says so) count as success, so the activity is idempotent. If both steps
// fail, the error names both, the first first; it is retryable when either
// failure is.
func (a *Activities) EndConversation(ctx context.Context, in workflows.EndConversationInput) error {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return err
	}
	type step struct {
		op   string
		call func(context.Context, string, string) error
	}
	var (
		msgs       []string
		retryable  bool
		retryAfter time.Duration
	)
	for _, s := range []step{{"end messaging session", a.SF.EndSession}, {"close conversation", a.SF.CloseConversation}} {
		err := s.call(ctx, in.UserID, in.ConversationID)
		if err == nil || alreadyDone(err) {
			if err != nil {
				a.logger().Info("already done", "step", s.op, "conversation_id", in.ConversationID, "error", redact(err.Error()))
			}
			continue
		}
		if ctx.Err() != nil {
			return fmt.Errorf("end conversation: %w", ctx.Err())
		}
		var appErr *temporal.ApplicationError
		if errors.As(salesforceError(ctx, s.op, err), &appErr) && !appErr.NonRetryable() {
			retryable = true
			retryAfter = max(retryAfter, miaw.RetryAfter(err))
		}
		msgs = append(msgs, s.op+": "+redact(err.Error()))
	}
	if len(msgs) == 0 {
		return nil
	}
	msg := "end conversation: " + strings.Join(msgs, "; ")
	if retryable {
		return retryableError(msg, ErrTypeSalesforceRetryable, retryAfter)
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeSalesforcePermanent, nil)
}

func requireIDs(userID, conversationID string) error {
	switch {
	case userID == "":
		return invalidInput("UserID is required")
	case conversationID == "":
		return invalidInput("ConversationID is required")
	}
	return nil
}

func isConflict(err error) bool { return miaw.IsStatus(err, http.StatusConflict) }
