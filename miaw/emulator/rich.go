package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// ChoicesInfo is a choices message the agent sent (MIAW ChoicesMessage).
type ChoicesInfo struct {
	FormatType string         `json:"formatType"` // Buttons | QuickReplies | Carousel
	Text       string         `json:"text,omitempty"`
	Options    []ChoiceOption `json:"options"`
}

// ChoiceOption is one option of a choices message; ID is its
// optionIdentifier.
type ChoiceOption struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// FormInfo is a form the agent sent (MIAW FormMessage, formatType Inputs).
type FormInfo struct {
	Title   string `json:"title"`
	Message string `json:"message,omitempty"`
}

// WebViewInfo is a web view the agent sent (StaticContentMessage, formatType
// WebView).
type WebViewInfo struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// ChoicesResponseInfo is the end user's answer to a choices message (MIAW
// ChoicesResponseMessage, formatType Selections).
type ChoicesResponseInfo struct {
	InReplyToMessageID string   `json:"inReplyToMessageId"`
	OptionIDs          []string `json:"optionIds"`
}

// titleItem is Salesforce's TitleItem as the message types reference shows
// it.
func titleItem(title string) map[string]any {
	return map[string]any{"itemType": "TitleItem", "title": title, "subTitle": nil, "secondarySubTitle": nil,
		"tertiarySubTitle": nil, "referenceId": nil}
}

// agentAbstractLocked emits an agent message with the given abstractMessage
// body (messageType and content; id and the common keys are added).
func (s *Server) agentAbstractLocked(c *conversation, am map[string]any, te TranscriptEntry) (entryID, messageID string) {
	s.ackLocked(c, true)
	messageID = newUUID()
	am["id"], am["inReplyToMessageId"], am["references"] = messageID, nil, nil
	entryID = s.emitLocked(c, entrySpec{event: miaw.EventMessage, entryType: miaw.EntryMessage,
		sender: agentParticipant(c.agent, c.agentSubject), displayName: c.agent,
		payload: map[string]any{"abstractMessage": am, "messageReason": nil}})
	te.EntryID, te.MessageID, te.Role, te.Sender, te.At = entryID, messageID, miaw.RoleAgent, c.agent, time.Now()
	c.transcript = append(c.transcript, te)
	return entryID, messageID
}

// agentSendRich runs emit on an active conversation.
func (s *Server) agentSendRich(op, conversationID string, emit func(c *conversation) string) (string, error) {
	var id string
	err := s.withConv(conversationID, func(c *conversation) error {
		if err := requireAgent(c, op); err != nil {
			return err
		}
		id = emit(c)
		return nil
	})
	return id, err
}

// AgentSendChoices sends a choices message (formatType Buttons, QuickReplies
// or Carousel) with the payload shape of Salesforce's message types
// reference; it returns the entry id. The end user's answer is recorded in
// the transcript (TranscriptEntry.Choice).
func (s *Server) AgentSendChoices(conversationID, formatType, text string, options []ChoiceOption) (string, error) {
	switch formatType {
	case miaw.FormatButtons, miaw.FormatQuickReplies, miaw.FormatCarousel:
	default:
		return "", fmt.Errorf("agent send choices: formatType must be Buttons, QuickReplies or Carousel, got %q", formatType)
	}
	if len(options) == 0 {
		return "", errors.New("agent send choices: no options")
	}
	items := make([]any, 0, len(options))
	seen := map[string]bool{}
	for i, o := range options {
		if strings.TrimSpace(o.Title) == "" {
			return "", fmt.Errorf("agent send choices: option %d has no title", i+1)
		}
		if o.ID == "" {
			options[i].ID = newUUID()
			o.ID = options[i].ID
		}
		if seen[o.ID] {
			return "", fmt.Errorf("agent send choices: option id %q is repeated", o.ID)
		}
		seen[o.ID] = true
		items = append(items, map[string]any{"itemType": "TitleOptionItem", "titleItem": titleItem(o.Title),
			"optionIdentifier": o.ID, "optionId": nil})
	}
	info := &ChoicesInfo{FormatType: formatType, Text: text, Options: append([]ChoiceOption(nil), options...)}
	return s.agentSendRich("agent send choices", conversationID, func(c *conversation) string {
		am := map[string]any{"messageType": miaw.MessageTypeChoices,
			"choices": map[string]any{"formatType": formatType, "text": text, "optionItems": items}}
		id, _ := s.agentAbstractLocked(c, am, TranscriptEntry{Text: text, Choices: info})
		return id
	})
}

// AgentSendForm sends a form message (formatType Inputs) with a title and a
// message; its inputs are not modelled.
func (s *Server) AgentSendForm(conversationID, title, message string) (string, error) {
	if strings.TrimSpace(title) == "" {
		return "", errors.New("agent send form: title is empty")
	}
	return s.agentSendRich("agent send form", conversationID, func(c *conversation) string {
		form := map[string]any{"formatType": miaw.FormatInputs, "formTitle": titleItem(title), "introScreen": nil, "images": []any{}}
		if message != "" {
			form["message"] = titleItem(message)
		}
		id, _ := s.agentAbstractLocked(c, map[string]any{"messageType": miaw.MessageTypeForm, "form": form},
			TranscriptEntry{Text: title, Form: &FormInfo{Title: title, Message: message}})
		return id
	})
}

// AgentSendWebView sends a web view (StaticContentMessage, formatType
// WebView). Its exact fields are not documented; the emulator sends url and
// title.
func (s *Server) AgentSendWebView(conversationID, url, title string) (string, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return "", fmt.Errorf("agent send web view: url must be http(s), got %q", url)
	}
	return s.agentSendRich("agent send web view", conversationID, func(c *conversation) string {
		am := map[string]any{"messageType": miaw.MessageTypeStaticContent,
			"staticContent": map[string]any{"formatType": miaw.FormatWebView, "url": url, "title": title}}
		id, _ := s.agentAbstractLocked(c, am, TranscriptEntry{Text: title, LinkURL: url, WebView: &WebViewInfo{URL: url, Title: title}})
		return id
	})
}

// AgentSendRaw sends an agent message whose abstractMessage is am as given
// (its id and common keys are added): a test's way to send a message or
// format type the bridge does not know.
func (s *Server) AgentSendRaw(conversationID string, am map[string]any) (string, error) {
	if mt, _ := am["messageType"].(string); mt == "" {
		return "", errors.New("agent send raw: abstractMessage.messageType is required")
	}
	return s.agentSendRich("agent send raw", conversationID, func(c *conversation) string {
		cp := make(map[string]any, len(am)+3)
		for k, v := range am {
			cp[k] = v
		}
		id, _ := s.agentAbstractLocked(c, cp, TranscriptEntry{Raw: am})
		return id
	})
}

// choicesResponseRequest is the message of a ChoicesResponseMessage send.
type choicesResponseRequest struct {
	FormatType      string `json:"formatType"`
	SelectedOptions []struct {
		OptionIdentifier string `json:"optionIdentifier"`
	} `json:"selectedOptions"`
}

// handleChoicesResponse takes an end user's ChoicesResponseMessage on POST
// /conversation/{id}/message: it must answer a choices message of this
// conversation (inReplyToMessageId = its abstractMessage id) with options
// it offered (400 otherwise; what Salesforce answers then is not known).
func (s *Server) handleChoicesResponse(w http.ResponseWriter, r *http.Request, claims *accessClaims, req messageRequest) {
	m := req.Message
	var cr choicesResponseRequest
	if len(m.ChoicesResponse) == 0 || json.Unmarshal(m.ChoicesResponse, &cr) != nil {
		writeError(w, http.StatusBadRequest, "message.choicesResponse is required for a ChoicesResponseMessage")
		return
	}
	if cr.FormatType != miaw.FormatSelections {
		writeError(w, http.StatusBadRequest, `message.choicesResponse.formatType must be "Selections"`)
		return
	}
	if len(cr.SelectedOptions) == 0 {
		writeError(w, http.StatusBadRequest, "message.choicesResponse.selectedOptions must not be empty")
		return
	}
	if m.InReplyToMessageID == "" {
		writeError(w, http.StatusBadRequest, "message.inReplyToMessageId is required for a ChoicesResponseMessage")
		return
	}
	s.postUserMessage(w, r, claims, req, func(c *conversation) (userMessage, bool) {
		var offered *ChoicesInfo
		for i := range c.transcript {
			if e := c.transcript[i]; e.Role == miaw.RoleAgent && e.MessageID == m.InReplyToMessageID && e.Choices != nil {
				offered = e.Choices
			}
		}
		if offered == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("no choices message %q in this conversation", m.InReplyToMessageID))
			return userMessage{}, false
		}
		var ids, titles []string
		selected := make([]any, 0, len(cr.SelectedOptions))
		for _, sel := range cr.SelectedOptions {
			title := ""
			for _, o := range offered.Options {
				if o.ID == sel.OptionIdentifier {
					title = o.Title
				}
			}
			if title == "" {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("option %q was not offered by message %q", sel.OptionIdentifier, m.InReplyToMessageID))
				return userMessage{}, false
			}
			ids, titles = append(ids, sel.OptionIdentifier), append(titles, title)
			selected = append(selected, map[string]any{"optionIdentifier": sel.OptionIdentifier})
		}
		return userMessage{
			abstract: map[string]any{"messageType": miaw.MessageTypeChoicesResponse, "id": m.ID, "inReplyToMessageId": m.InReplyToMessageID,
				"references": []any{}, "choicesResponse": map[string]any{"formatType": miaw.FormatSelections, "selectedOptions": selected}},
			text:   strings.Join(titles, ", "),
			choice: &ChoicesResponseInfo{InReplyToMessageID: m.InReplyToMessageID, OptionIDs: ids},
		}, true
	})
}

// richControlRoutes adds the control API's rich agent messages under p
// (/emulator/v1/conversations): POST {id}/choices {formatType, text,
// options:[{id?, title}]}, POST {id}/forms {title, message}, POST
// {id}/webviews {url, title} and POST {id}/raw {abstractMessage}; each
// answers {"entryId"}. The end user's answers show in GET {id}/transcript.
func (s *Server) richControlRoutes(mux *http.ServeMux, p string) {
	entry := func(id string, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return map[string]string{"entryId": id}, nil
	}
	mux.HandleFunc("POST "+p+"/{id}/choices", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			FormatType string         `json:"formatType"`
			Text       string         `json:"text"`
			Options    []ChoiceOption `json:"options"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) {
			if b.FormatType == "" {
				b.FormatType = miaw.FormatQuickReplies
			}
			return entry(s.AgentSendChoices(id, b.FormatType, b.Text, b.Options))
		})
	})
	mux.HandleFunc("POST "+p+"/{id}/forms", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Title   string `json:"title"`
			Message string `json:"message"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.AgentSendForm(id, b.Title, b.Message)) })
	})
	mux.HandleFunc("POST "+p+"/{id}/webviews", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.AgentSendWebView(id, b.URL, b.Title)) })
	})
	mux.HandleFunc("POST "+p+"/{id}/raw", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			AbstractMessage map[string]any `json:"abstractMessage"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.AgentSendRaw(id, b.AbstractMessage)) })
	})
}
