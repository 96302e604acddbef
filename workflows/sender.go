package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// outgoing is one user message or attachment waiting to be sent to Salesforce.
// Exactly one of msg and att is set. An update handler waiting for the result
// has waiter set and is woken when done becomes true.
type outgoing struct {
	msg    *UserMessage
	att    *UserAttachment
	waiter bool

	done   bool
	result UpdateResult
	err    error
}

func (o *outgoing) id() string {
	if o.msg != nil {
		return o.msg.ID
	}
	return o.att.ID
}

// outbox is what the user sent that Salesforce has not received yet, in
// order, and the one sender coroutine that drains it (startSender).
type outbox struct {
	items    []*outgoing
	inFlight *outgoing // being sent; nil while the sender is idle
	stopped  bool      // the sender is gone: the run is closing or continuing as new
}

// textBytes is the text size of the unsent messages and captions.
func (o *outbox) textBytes() int {
	n := 0
	for _, item := range o.items {
		if item.msg != nil {
			n += len(item.msg.Text)
		} else {
			n += len(item.att.Caption)
		}
	}
	return n
}

// hasAttachment reports whether an attachment waits (attachments are not
// carried across continue-as-new).
func (o *outbox) hasAttachment() bool {
	for _, item := range o.items {
		if item.att != nil {
			return true
		}
	}
	return false
}

// hasWaiter reports whether an update handler waits for an item.
func (o *outbox) hasWaiter() bool {
	for _, item := range o.items {
		if item.waiter {
			return true
		}
	}
	return false
}

// startSender runs the one coroutine that sends user messages and
// attachments, so Salesforce receives them in the order they were accepted.
// While the run drains for continue-as-new it only sends what an update
// handler still waits for; the rest is carried to the next run.
func (s *session) startSender(ctx workflow.Context) {
	canSend := func() bool {
		return s.state() == StateActive && len(s.outbox.items) > 0 && (!s.draining || s.outbox.hasWaiter())
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, func() bool { return s.outbox.stopped || canSend() }); err != nil || s.outbox.stopped {
				return
			}
			if err := s.awaitRate(ctx); err != nil {
				return
			}
			if s.outbox.stopped || !canSend() {
				continue
			}
			item := s.outbox.items[0]
			s.outbox.items = s.outbox.items[1:]
			s.outbox.inFlight = item
			item.result, item.err = s.send(ctx, item)
			item.done = true
			s.outbox.inFlight = nil
			if item.err != nil {
				s.forget(ctx, item)
			}
			s.refreshDetails(ctx)
		}
	})
}

// send sends one outbox item to Salesforce.
func (s *session) send(ctx workflow.Context, item *outgoing) (UpdateResult, error) {
	var (
		id  string
		res SendResult
		err error
	)
	if item.msg != nil {
		id = item.msg.ID
		res, err = s.sendMessage(ctx, "send user message", id, item.msg.Text, s.choiceResponse(ctx, item.msg))
	} else {
		id = item.att.ID
		res, err = s.sendAttachment(ctx, *item.att)
	}
	if err != nil {
		return UpdateResult{}, fmt.Errorf("send %s to Salesforce: %w", id, err)
	}
	s.recordSend(ctx)
	s.sentEntryIDs[id] = res.EntryID
	s.userSent()
	s.matchParked(id, res.EntryID)
	return UpdateResult{Status: UpdateSent, EntryID: res.EntryID}, nil
}

// forget undoes an item that could not be sent, so the assistant may retry it
// with the same id. A queued item has no caller left to tell, so the user
// gets a notice instead.
func (s *session) forget(ctx workflow.Context, item *outgoing) {
	id := item.id()
	s.logger.Error("User message not sent", "messageID", id, "error", item.err)
	s.seenUserMessages.remove(id)
	for i := len(s.transcript) - 1; i >= 0; i-- {
		if s.transcript[i].ID == id && s.transcript[i].From == FromUser {
			s.transcript = append(s.transcript[:i:i], s.transcript[i+1:]...)
			break
		}
	}
	if !item.waiter && s.state() == StateActive {
		s.notify(ctx, "send-failed/"+id, sendFailedNotice(s.req.Settings, item))
	}
}

// sendFailedNotice says why a kept item was not sent, when Salesforce said
// why it refused a file.
func sendFailedNotice(st Settings, item *outgoing) string {
	failed := orDefault(st.SendFailedMessage, sendFailedMessage)
	var appErr *temporal.ApplicationError
	if item.att == nil || !errors.As(item.err, &appErr) {
		return failed
	}
	switch appErr.Type() {
	case ErrTypeAttachmentTooLarge:
		return fileText(st.FileTooLargeMessage, fileTooLargeFormat, item.att.Name)
	case ErrTypeUnsupportedFileType:
		return fileText(st.FileTypeRefusedMessage, fileTypeRefusedFormat, item.att.Name)
	}
	return failed
}

// failWaitingSends ends every update still waiting in the outbox: the session
// is closing and the message will not be sent.
func (s *session) failWaitingSends() {
	s.outbox.stopped = true
	for _, item := range s.outbox.items {
		if item.waiter && !item.done {
			item.err = temporal.NewApplicationError(
				fmt.Sprintf("session closed before message %s was sent", item.id()), errTypeSessionClosed)
			item.done = true
		}
	}
	s.outbox.items = nil
}
