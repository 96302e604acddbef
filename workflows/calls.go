package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// The session's activity calls: each runs one activity with its options
// (options.go) and returns the activity's typed result.

func (s *session) streamPosition(ctx workflow.Context) (StreamPositionResult, error) {
	var res StreamPositionResult
	err := workflow.ExecuteActivity(salesforceOptions(ctx, "stream position"), ActivityStreamPosition,
		StreamPositionInput{UserID: s.req.UserID}).Get(ctx, &res)
	return res, err
}

func (s *session) createConversation(ctx workflow.Context) (CreateConversationResult, error) {
	var res CreateConversationResult
	err := workflow.ExecuteActivity(salesforceOptions(ctx, "create conversation"), ActivityCreateConversation,
		CreateConversationInput{
			UserID:            s.req.UserID,
			ConversationID:    s.conversationID,
			RoutingAttributes: s.routingAttributes(),
			Language:          s.req.Locale,
		}).Get(ctx, &res)
	return res, err
}

// sendMessage sends text as the assistant's message messageID; summary
// names it in the Web UI (legacy runs). Current runs send it as a local
// activity: a marker in the workflow task that asked for it, instead of
// three activity events and a second workflow task.
func (s *session) sendMessage(ctx workflow.Context, summary, messageID, text string, choice *ChoiceResponse) (SendResult, error) {
	s.askListenerDelivers(ctx)
	in := SendMessageInput{
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		MessageID:      miawMessageID(s.conversationID, messageID),
		Text:           text,
		Language:       s.req.Locale,
		Choice:         choice,
	}
	var res SendResult
	if s.sendsLocally(ctx) {
		err := workflow.ExecuteLocalActivity(localSalesforceOptions(ctx), ActivitySendMessage, in).Get(ctx, &res)
		return res, err
	}
	err := workflow.ExecuteActivity(salesforceOptions(ctx, summary), ActivitySendMessage, in).Get(ctx, &res)
	return res, err
}

func (s *session) sendAttachment(ctx workflow.Context, a UserAttachment) (SendResult, error) {
	s.askListenerDelivers(ctx)
	var res SendResult
	err := workflow.ExecuteActivity(salesforceOptions(ctx, "send user attachment"), ActivitySendAttachment, SendAttachmentInput{
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		MessageID:      miawMessageID(s.conversationID, a.ID),
		Attachment:     a,
		Language:       s.req.Locale,
	}).Get(ctx, &res)
	return res, err
}

func (s *session) endConversation(ctx workflow.Context) error {
	return workflow.ExecuteActivity(salesforceOptions(ctx, "end conversation"), ActivityEndConversation,
		EndConversationInput{UserID: s.req.UserID, ConversationID: s.conversationID}).Get(ctx, nil)
}

func (s *session) downloadAttachment(ctx workflow.Context, entryID string, a AgentAttachment) (AttachmentRef, error) {
	var ref AttachmentRef
	err := workflow.ExecuteActivity(downloadOptions(ctx), ActivityDownloadAttachment, DownloadInput{
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		EntryID:        entryID,
		Attachment:     a,
		MaxSize:        s.req.Settings.MaxAttachmentBytes,
	}).Get(ctx, &ref)
	return ref, err
}

// deliverToUser runs ActivityDeliver as a local activity (current runs: its
// result is one marker in the workflow task that asked for it, instead of
// three activity events and a second workflow task), or as an activity
// (legacy runs).
func (s *session) deliverToUser(ctx workflow.Context, d Delivery) error {
	if s.deliversLocally(ctx) {
		return workflow.ExecuteLocalActivity(localDeliveryOptions(ctx), ActivityDeliver, d).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(deliveryOptions(ctx, "deliver "+string(d.Kind)), ActivityDeliver, d).Get(ctx, nil)
}

// listen starts the SSE listener from s.lastEventID; it runs until ctx is
// cancelled.
func (s *session) listen(ctx workflow.Context) workflow.Future {
	return workflow.ExecuteActivity(listenerOptions(ctx, s.req.Settings.ListenerHeartbeatTimeout), ActivityListen, ListenInput{
		WorkflowID:     s.workflowID,
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		LastEventID:    s.lastEventID,
	})
}
