package miaw

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Message types (abstractMessage.messageType), from Salesforce's "Message
// Types and Message Format Types" reference (miaw-api.md §2.4).
const (
	MessageTypeStaticContent   = "StaticContentMessage"
	MessageTypeChoices         = "ChoicesMessage"
	MessageTypeChoicesResponse = "ChoicesResponseMessage"
	MessageTypeForm            = "FormMessage"
	MessageTypeFormResponse    = "FormResponseMessage"
)

// Format types of the rich message types.
const (
	FormatButtons      = "Buttons"      // ChoicesMessage
	FormatQuickReplies = "QuickReplies" // ChoicesMessage
	FormatCarousel     = "Carousel"     // ChoicesMessage
	FormatSelections   = "Selections"   // ChoicesResponseMessage
	FormatInputs       = "Inputs"       // FormMessage
	FormatWebView      = "WebView"      // StaticContentMessage
)

// ChoicesContent is the "choices" of a ChoicesMessage: a prompt and the
// options the end user may pick one of.
type ChoicesContent struct {
	FormatType string         // FormatButtons, FormatQuickReplies or FormatCarousel
	Text       string         // the prompt; may be empty
	Options    []ChoiceOption // in the order Salesforce sent them
}

// ChoiceOption is one option of a ChoicesContent.
type ChoiceOption struct {
	// ID is the optionIdentifier, what a ChoicesResponse names.
	ID       string
	Title    string
	Subtitle string
}

// FormContent is what this package reads of a FormMessage's "form": its
// title and message. The inputs of a form are not modelled.
type FormContent struct {
	FormatType string // FormatInputs
	Title      string
	Message    string
}

// WebViewContent is a StaticContentMessage of formatType WebView: a page the
// end user is asked to open.
type WebViewContent struct {
	URL   string
	Title string
}

// titleItem is Salesforce's TitleItem, which some payloads replace by a
// plain string.
type titleItem struct {
	Title    string `json:"title"`
	SubTitle string `json:"subTitle"`
}

func (t *titleItem) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		t.Title = s
		return nil
	}
	type plain titleItem
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = titleItem(p)
	return nil
}

// Choices decodes the abstractMessage of a ChoicesMessage. Options without an
// optionIdentifier cannot be answered and are left out; an error means the
// JSON is not a choices message at all.
func (a AbstractMessage) Choices() (*ChoicesContent, error) {
	if a.MessageType != MessageTypeChoices {
		return nil, fmt.Errorf("messageType %q is not %s", a.MessageType, MessageTypeChoices)
	}
	var r struct {
		Choices *struct {
			FormatType  string `json:"formatType"`
			Text        string `json:"text"`
			OptionItems []struct {
				OptionIdentifier string     `json:"optionIdentifier"`
				TitleItem        *titleItem `json:"titleItem"`
				Title            string     `json:"title"`
			} `json:"optionItems"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(a.Raw, &r); err != nil {
		return nil, fmt.Errorf("decode choices: %w", err)
	}
	if r.Choices == nil {
		return nil, fmt.Errorf("%s has no choices", MessageTypeChoices)
	}
	out := &ChoicesContent{FormatType: r.Choices.FormatType, Text: r.Choices.Text}
	for _, it := range r.Choices.OptionItems {
		if it.OptionIdentifier == "" {
			continue
		}
		o := ChoiceOption{ID: it.OptionIdentifier, Title: it.Title}
		if it.TitleItem != nil {
			o.Title = firstNonBlank(it.TitleItem.Title, o.Title)
			o.Subtitle = it.TitleItem.SubTitle
		}
		out.Options = append(out.Options, o)
	}
	return out, nil
}

// Form decodes the abstractMessage of a FormMessage.
func (a AbstractMessage) Form() (*FormContent, error) {
	if a.MessageType != MessageTypeForm {
		return nil, fmt.Errorf("messageType %q is not %s", a.MessageType, MessageTypeForm)
	}
	var r struct {
		Form *struct {
			FormatType string     `json:"formatType"`
			FormTitle  *titleItem `json:"formTitle"`
			Message    *titleItem `json:"message"`
		} `json:"form"`
	}
	if err := json.Unmarshal(a.Raw, &r); err != nil {
		return nil, fmt.Errorf("decode form: %w", err)
	}
	if r.Form == nil {
		return nil, fmt.Errorf("%s has no form", MessageTypeForm)
	}
	out := &FormContent{FormatType: r.Form.FormatType}
	if r.Form.FormTitle != nil {
		out.Title = r.Form.FormTitle.Title
	}
	if r.Form.Message != nil {
		out.Message = r.Form.Message.Title
	}
	return out, nil
}

// WebView decodes a StaticContentMessage of formatType WebView. The exact
// fields are not documented in anything read (miaw-api.md §2.4): the URL is
// read from staticContent.url (or linkItem.url) and the title from
// staticContent.title (a string or a TitleItem).
func (a AbstractMessage) WebView() (*WebViewContent, error) {
	var r struct {
		StaticContent *struct {
			FormatType string     `json:"formatType"`
			URL        string     `json:"url"`
			Title      *titleItem `json:"title"`
			LinkItem   *struct {
				URL string `json:"url"`
			} `json:"linkItem"`
		} `json:"staticContent"`
	}
	if err := json.Unmarshal(a.Raw, &r); err != nil {
		return nil, fmt.Errorf("decode web view: %w", err)
	}
	sc := r.StaticContent
	if sc == nil || sc.FormatType != FormatWebView {
		return nil, fmt.Errorf("not a %s static content", FormatWebView)
	}
	out := &WebViewContent{URL: sc.URL}
	if out.URL == "" && sc.LinkItem != nil {
		out.URL = sc.LinkItem.URL
	}
	if sc.Title != nil {
		out.Title = sc.Title.Title
	}
	return out, nil
}

func firstNonBlank(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// ChoicesResponse is the end user's answer to a ChoicesMessage.
type ChoicesResponse struct {
	// ID is the client message id (UUID), as TextMessage.ID.
	ID string
	// InReplyToMessageID is the abstractMessage id of the ChoicesMessage.
	InReplyToMessageID string
	// OptionIDs are the optionIdentifiers picked (one for buttons and
	// quick replies).
	OptionIDs []string
	// Language and RoutingAttributes are sent only with a new messaging
	// session, and NoNewSession refuses one, as in TextMessage.
	Language          string
	RoutingAttributes map[string]string
	NoNewSession      bool
}

// choicesResponseBody is the "message" of a ChoicesResponseMessage send.
type choicesResponseBody struct {
	ID                 string `json:"id"`
	InReplyToMessageID string `json:"inReplyToMessageId"`
	MessageType        string `json:"messageType"`
	ChoicesResponse    struct {
		FormatType      string           `json:"formatType"`
		SelectedOptions []selectedOption `json:"selectedOptions"`
	} `json:"choicesResponse"`
}

type selectedOption struct {
	OptionIdentifier string `json:"optionIdentifier"`
}

// SendChoicesResponse sends the end user's pick of a ChoicesMessage as a
// ChoicesResponseMessage (formatType Selections) on the same endpoint as
// SendMessage, with the same 417 handling. The body's shape follows
// Salesforce's Interaction API sample (miaw-api.md §1.6; inferred for the
// Messaging for In-App and Web API).
func (c *Client) SendChoicesResponse(ctx context.Context, userID, conversationID string, r ChoicesResponse) (*SendResult, error) {
	const op = "send choices response"
	if err := checkConversationID(op, conversationID); err != nil {
		return nil, err
	}
	if err := checkUUID(op, "message id", r.ID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.InReplyToMessageID) == "" {
		return nil, invalidf(op, "inReplyToMessageId must not be empty")
	}
	if len(r.OptionIDs) == 0 {
		return nil, invalidf(op, "at least one option must be selected")
	}
	for _, id := range r.OptionIDs {
		if strings.TrimSpace(id) == "" {
			return nil, invalidf(op, "an option identifier is empty")
		}
	}
	if err := checkRoutingAttributes(op, r.RoutingAttributes); err != nil {
		return nil, err
	}
	build := func(newSession bool) []byte {
		var m choicesResponseBody
		m.ID = strings.ToLower(r.ID)
		m.InReplyToMessageID = r.InReplyToMessageID
		m.MessageType = MessageTypeChoicesResponse
		m.ChoicesResponse.FormatType = FormatSelections
		for _, id := range r.OptionIDs {
			m.ChoicesResponse.SelectedOptions = append(m.ChoicesResponse.SelectedOptions, selectedOption{OptionIdentifier: id})
		}
		body := struct {
			ESDeveloperName       string              `json:"esDeveloperName"`
			IsNewMessagingSession bool                `json:"isNewMessagingSession,omitempty"`
			Language              string              `json:"language,omitempty"`
			Message               choicesResponseBody `json:"message"`
			RoutingAttributes     map[string]string   `json:"routingAttributes,omitzero"`
		}{ESDeveloperName: c.cfg.DeploymentName, Message: m}
		if newSession {
			body.IsNewMessagingSession = true
			body.RoutingAttributes = newSessionAttributes(r.RoutingAttributes)
		}
		body.Language = sessionLanguage(newSession, r.Language)
		return jsonBody(body)
	}
	p := conversationPath(conversationID, "/message")
	return c.sendWithNewSession(ctx, userID, op, !r.NoNewSession, func(newSession bool) call {
		return call{method: http.MethodPost, endpoint: epMessage, path: p, body: build(newSession), contentType: "application/json"}
	})
}

// UnmarshalJSON accepts staticContent.title as a string or as a TitleItem
// object ({"title": "..."}), so a WebView or rich link whose title is an
// object still decodes (the exact shapes are not documented).
func (sc *StaticContent) UnmarshalJSON(b []byte) error {
	type plain StaticContent
	var p struct {
		plain
		Title *titleItem `json:"title,omitempty"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*sc = StaticContent(p.plain)
	if p.Title != nil {
		sc.Title = p.Title.Title
	}
	return nil
}
