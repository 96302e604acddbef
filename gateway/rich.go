package gateway

import (
	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// ChoiceRequest is the "choice" of a SendMessageRequest: the user's pick of
// an option an agent message offered (its "choices"). It is also how the
// transcript shows a user's pick.
type ChoiceRequest struct {
	// InReplyTo is the id of the agent message (its delivery and
	// transcript id).
	InReplyTo string `json:"inReplyTo"`
	// OptionID is the id of one of that message's options.
	OptionID string `json:"optionId"`
}

// richTranscript adds the rich content of a workflow transcript entry to its
// JSON line.
func richTranscript(te *TranscriptEntry, e workflows.TranscriptEntry) {
	te.Choices = activities.NewWebhookChoices(e.Choices)
	te.Form = activities.NewWebhookForm(e.Form)
	te.WebView = activities.NewWebhookWebView(e.WebView)
	if c := e.Choice; c != nil {
		te.Choice = &ChoiceRequest{InReplyTo: c.InReplyTo, OptionID: c.OptionID}
	}
}
