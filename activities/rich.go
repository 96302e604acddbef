package activities

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// UnsupportedContentText is the text delivered for an agent message this
// bridge cannot show (a message or format type it does not know), so the
// user learns that something was sent instead of seeing nothing.
const UnsupportedContentText = "[The agent sent content this chat cannot show. Ask the agent to send it as text.]"

// MetricUnsupportedContent counts agent messages delivered as
// UnsupportedContentText, tagged with MetricTagContentType (the MIAW message
// type, and format type when there is one).
const (
	MetricUnsupportedContent = "liveagent_unsupported_content"
	MetricTagContentType     = "content_type"
)

// knownStaticFormats are the StaticContentMessage format types translateMessage
// shows (WebView is handled by translateRich).
var knownStaticFormats = map[string]bool{
	miaw.FormatText: true, miaw.FormatRichLink: true, miaw.FormatAttachments: true,
}

var choiceKinds = map[string]workflows.ChoiceKind{
	miaw.FormatButtons:      workflows.ChoiceButtons,
	miaw.FormatQuickReplies: workflows.ChoiceQuickReplies,
	miaw.FormatCarousel:     workflows.ChoiceCarousel,
}

// translateRich turns a ChoicesMessage, FormMessage or WebView static
// content into structured content plus its plain-text fallback in Text. A
// payload it cannot read (no options, an unknown choice format, no safe
// URL) becomes unsupported content rather than being dropped.
func translateRich(ae workflows.AgentEvent, am miaw.AbstractMessage) workflows.AgentEvent {
	switch am.MessageType {
	case miaw.MessageTypeChoices:
		c, err := am.Choices()
		if err != nil {
			return unsupportedContent(ae, am.MessageType)
		}
		kind, ok := choiceKinds[c.FormatType]
		if !ok || len(c.Options) == 0 {
			return unsupportedContent(ae, am.MessageType+"/"+quoteOr(c.FormatType, "(none)"))
		}
		ch := &workflows.Choices{Kind: kind, MessageID: firstNonEmpty(am.ID, ae.EntryID), Prompt: strings.TrimSpace(c.Text)}
		for _, o := range c.Options {
			ch.Options = append(ch.Options, workflows.ChoiceOption{ID: o.ID, Title: firstNonEmpty(strings.TrimSpace(o.Title), o.ID), Subtitle: o.Subtitle})
		}
		ae.Choices = ch
		ae.Text = ChoicesFallback(ch)
	case miaw.MessageTypeForm:
		f, err := am.Form()
		if err != nil {
			return unsupportedContent(ae, am.MessageType)
		}
		ae.Form = &workflows.Form{Title: strings.TrimSpace(f.Title), Message: strings.TrimSpace(f.Message)}
		ae.Text = FormFallback(ae.Form)
	default: // WebView
		wv, err := am.WebView()
		if err != nil || !safeLinkURL(wv.URL) {
			return unsupportedContent(ae, am.MessageType+"/"+miaw.FormatWebView)
		}
		ae.WebView = &workflows.WebView{URL: strings.TrimSpace(wv.URL), Title: strings.TrimSpace(wv.Title)}
		ae.Text = WebViewFallback(ae.WebView)
	}
	return ae
}

// unsupportedContent makes ae the notice for content of type what that this
// bridge cannot show.
func unsupportedContent(ae workflows.AgentEvent, what string) workflows.AgentEvent {
	ae.Text = UnsupportedContentText
	ae.Unsupported = what
	return ae
}

// ChoicesFallback is the plain text of a choice, for an assistant that does
// not read the structured field: "Which team? Options: 1) Billing
// 2) Payroll", or "Pick one: 1) Billing 2) Payroll" without a prompt.
func ChoicesFallback(c *workflows.Choices) string {
	var b strings.Builder
	if c.Prompt != "" {
		b.WriteString(c.Prompt)
		b.WriteString(" Options:")
	} else {
		b.WriteString("Pick one:")
	}
	for i, o := range c.Options {
		fmt.Fprintf(&b, " %d) %s", i+1, o.Title)
	}
	return b.String()
}

// FormFallback is the plain text of a form, which the user answers in text.
func FormFallback(f *workflows.Form) string {
	parts := []string{"[The agent sent a form"}
	if f.Title != "" {
		parts[0] += ": " + f.Title
	}
	parts[0] += "]"
	if f.Message != "" && f.Message != f.Title {
		parts = append(parts, f.Message)
	}
	parts = append(parts, "(Please answer in text.)")
	return strings.Join(parts, " ")
}

// WebViewFallback is the plain text of a web view: its title and URL.
func WebViewFallback(w *workflows.WebView) string {
	if w.Title != "" {
		return w.Title + ": " + w.URL
	}
	return "Open this page: " + w.URL
}

// countUnsupported counts an agent message delivered as unsupported content
// (MetricUnsupportedContent and ListenerStats.Unsupported).
func (a *Activities) countUnsupported(ctx context.Context, ae workflows.AgentEvent) {
	if ae.Unsupported == "" {
		return
	}
	a.stats.unsupported.Add(1)
	if activity.IsActivity(ctx) {
		activity.GetMetricsHandler(ctx).
			WithTags(map[string]string{MetricTagContentType: strings.ReplaceAll(ae.Unsupported, `"`, "")}).
			Counter(MetricUnsupportedContent).Inc(1)
	}
}

// choicesResponder is the part of *miaw.Client that answers a choice; a
// Salesforce without it (an older fake) gets the choice as text.
type choicesResponder interface {
	SendChoicesResponse(ctx context.Context, userID, conversationID string, r miaw.ChoicesResponse) (*miaw.SendResult, error)
}

// sendChoice sends in.Choice as a MIAW ChoicesResponse. ok is false when the
// Salesforce client cannot, and the caller sends the text instead.
func (a *Activities) sendChoice(ctx context.Context, in workflows.SendMessageInput) (res *miaw.SendResult, ok bool, err error) {
	cr, ok := a.SF.(choicesResponder)
	if !ok {
		a.logger().Warn("choice sent as text: the Salesforce client cannot send a choices response", "conversation_id", in.ConversationID)
		return nil, false, nil
	}
	res, err = cr.SendChoicesResponse(ctx, in.UserID, in.ConversationID, miaw.ChoicesResponse{
		ID:                 in.MessageID,
		InReplyToMessageID: in.Choice.InReplyToMessageID,
		OptionIDs:          []string{in.Choice.OptionID},
		Language:           in.Language,
		NoNewSession:       true,
	})
	return res, true, err
}
