package activities

import "github.com/liveagent-bridge/liveagent/workflows"

// WebhookChoices is the "choices" of an agent-message delivery: options the
// agent offers. The user answers by sending a message with a choice naming
// the delivery's id and one option's id. The delivery's text is the same
// choice in plain text.
type WebhookChoices struct {
	Kind    string                `json:"kind"` // buttons | quick-replies | carousel
	Prompt  string                `json:"prompt,omitempty"`
	Options []WebhookChoiceOption `json:"options"`
}

// WebhookChoiceOption is one option of WebhookChoices.
type WebhookChoiceOption struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

// WebhookForm is the "form" of an agent-message delivery. Forms cannot be
// answered through the bridge; the user answers in text.
type WebhookForm struct {
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
}

// WebhookWebView is the "webView" of an agent-message delivery: a page the
// agent asks the user to open.
type WebhookWebView struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// NewWebhookChoices converts Choices to their JSON shape (nil for nil).
func NewWebhookChoices(c *workflows.Choices) *WebhookChoices {
	if c == nil {
		return nil
	}
	out := &WebhookChoices{Kind: string(c.Kind), Prompt: c.Prompt, Options: make([]WebhookChoiceOption, 0, len(c.Options))}
	for _, o := range c.Options {
		out.Options = append(out.Options, WebhookChoiceOption{ID: o.ID, Title: o.Title, Subtitle: o.Subtitle})
	}
	return out
}

// NewWebhookForm converts a Form to its JSON shape (nil for nil).
func NewWebhookForm(f *workflows.Form) *WebhookForm {
	if f == nil {
		return nil
	}
	return &WebhookForm{Title: f.Title, Message: f.Message}
}

// NewWebhookWebView converts a WebView to its JSON shape (nil for nil).
func NewWebhookWebView(w *workflows.WebView) *WebhookWebView {
	if w == nil {
		return nil
	}
	return &WebhookWebView{URL: w.URL, Title: w.Title}
}

// choices converts back (the MIAW message id is not part of the payload).
func (c *WebhookChoices) choices() *workflows.Choices {
	if c == nil {
		return nil
	}
	out := &workflows.Choices{Kind: workflows.ChoiceKind(c.Kind), Prompt: c.Prompt}
	for _, o := range c.Options {
		out.Options = append(out.Options, workflows.ChoiceOption{ID: o.ID, Title: o.Title, Subtitle: o.Subtitle})
	}
	return out
}

func (f *WebhookForm) form() *workflows.Form {
	if f == nil {
		return nil
	}
	return &workflows.Form{Title: f.Title, Message: f.Message}
}

func (w *WebhookWebView) webView() *workflows.WebView {
	if w == nil {
		return nil
	}
	return &workflows.WebView{URL: w.URL, Title: w.Title}
}
