package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// registerHandlers installs the query and the user-side updates. Validators
// run before anything is written to history: a rejected update leaves none.
func (s *session) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (SessionView, error) {
		return s.view(), nil
	}); err != nil {
		return fmt.Errorf("query %s: %w", QueryState, err)
	}
	if err := s.registerListenerDelivery(ctx); err != nil {
		return err
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateSendMessage, s.onSendMessage, s.validateMessage},
		{UpdateSendAttachment, s.onSendAttachment, s.validateAttachmentUpdate},
		{UpdateClose, s.onClose, s.validateClose},
		{UpdateTyping, s.onUserTyping, s.validateTyping},
		{UpdateReceipts, s.onReceipts, s.validateReceipts},
		{UpdateSurvey, s.onSurvey, s.validateSurvey},
		{UpdateFinish, s.onFinish, s.validateFinish},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{
			Validator: u.validator,
		}); err != nil {
			return fmt.Errorf("update %s: %w", u.name, err)
		}
	}
	return nil
}

func (s *session) validateMessage(_ workflow.Context, m UserMessage) error {
	if err := s.validateOpen(); err != nil {
		return err
	}
	if err := validateID(m.ID); err != nil {
		return err
	}
	if m.Choice != nil {
		opt, err := s.validateChoice(*m.Choice)
		if err != nil {
			return err
		}
		if m.Text == "" {
			m.Text = opt.Title
		}
	}
	if err := s.validateText("message text", m.Text, false); err != nil {
		return err
	}
	return s.validateOutboxRoom(len(m.Text))
}

// validateOutboxRoom rejects new input while too much is still unsent (the
// outbox is carried across continue-as-new, so it must stay bounded).
func (s *session) validateOutboxRoom(textBytes int) error {
	if n := len(s.outbox.items); n >= maxOutbox || s.outbox.textBytes()+textBytes > maxOutboxBytes {
		return fmt.Errorf("too many messages are waiting to be sent (%d); retry once they are delivered", n)
	}
	return nil
}

func (s *session) validateAttachmentUpdate(_ workflow.Context, a UserAttachment) error {
	if err := s.validateOpen(); err != nil {
		return err
	}
	if s.draining {
		return errors.New("session is moving to a new run; retry the attachment in a moment")
	}
	if err := s.validateAttachment(a); err != nil {
		return err
	}
	return s.validateOutboxRoom(len(a.Caption))
}

func (s *session) validateClose(_ workflow.Context, _ UserClose) error {
	return s.validateOpen()
}

// onSendMessage sends (active) or keeps (waiting, or while moving to a new
// run) one user message. The assistant's message id is the idempotency key.
func (s *session) onSendMessage(ctx workflow.Context, m UserMessage) (UpdateResult, error) {
	if dup, ok := s.duplicate(m.ID); ok {
		return dup, nil
	}
	if m.Choice != nil && m.Text == "" {
		// The validator accepted the choice, so the option exists.
		opt, _ := s.validateChoice(*m.Choice)
		m.Text = opt.Title
	}
	s.addTranscript(TranscriptEntry{ID: m.ID, At: workflow.Now(ctx), From: FromUser, Text: m.Text, Choice: m.Choice})
	s.wrote(ctx)
	return s.enqueue(ctx, &outgoing{msg: &m})
}

// onSendAttachment is onSendMessage for a file already in the attachment store.
func (s *session) onSendAttachment(ctx workflow.Context, a UserAttachment) (UpdateResult, error) {
	if dup, ok := s.duplicate(a.ID); ok {
		return dup, nil
	}
	s.addTranscript(TranscriptEntry{
		ID: a.ID, At: workflow.Now(ctx), From: FromUser, Text: a.Caption,
		Attachment: &AttachmentRef{Name: a.Name, MimeType: a.MimeType, Size: a.Size, SHA256: a.SHA256},
	})
	s.wrote(ctx)
	return s.enqueue(ctx, &outgoing{att: &a})
}

// wrote notes that the user or the agent wrote: the chat is not idle, and
// a session Salesforce marked Inactive is alive again.
func (s *session) wrote(ctx workflow.Context) {
	s.lastMessageAt = workflow.Now(ctx)
	s.inactive = false
}

// onClose asks the main loop to close; the cleanup runs there.
func (s *session) onClose(ctx workflow.Context, c UserClose) (UpdateResult, error) {
	s.logger.Info("User asked to close", "requestID", c.ID, "reason", c.Reason)
	s.end(ctx, CloseUserClosed)
	return UpdateResult{Status: UpdateClosed}, nil
}

// duplicate answers an id already accepted (in this run or, via Carry, an
// earlier one); otherwise it records the id.
func (s *session) duplicate(id string) (UpdateResult, bool) {
	if s.seenUserMessages.has(id) {
		s.logger.Info("Duplicate user update ignored", "messageID", id)
		return UpdateResult{Status: UpdateDuplicate, EntryID: s.sentEntryIDs[id]}, true
	}
	s.seenUserMessages.add(id)
	return UpdateResult{}, false
}

// enqueue appends to the outbox. While an agent is active the caller waits for
// its turn and gets the Salesforce entry id; otherwise the item is kept and
// sent in order once an agent accepts.
func (s *session) enqueue(ctx workflow.Context, item *outgoing) (UpdateResult, error) {
	if s.state() != StateActive || s.draining {
		s.outbox.items = append(s.outbox.items, item)
		s.refreshDetails(ctx)
		return UpdateResult{Status: UpdateQueued, QueuedReason: QueuedWaitingForAgent}, nil
	}
	if s.overRate(ctx) {
		s.outbox.items = append(s.outbox.items, item)
		s.refreshDetails(ctx)
		return UpdateResult{Status: UpdateQueued, QueuedReason: QueuedPaced}, nil
	}
	item.waiter = true
	s.outbox.items = append(s.outbox.items, item)
	if err := workflow.Await(ctx, func() bool { return item.done }); err != nil {
		return UpdateResult{}, err
	}
	return item.result, item.err
}
