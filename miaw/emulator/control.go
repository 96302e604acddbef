package emulator

import (
	_ "embed"
	"encoding/base64"
	"errors"
	"net/http"
)

//go:embed console.html
var consoleHTML []byte

// controlRoutes registers the agent-side JSON control API under /emulator/v1/
// and the agent console page. Errors are {"message","status"}: 400 for bad
// input, 404 for unknown conversations, 409 when the conversation's state does
// not allow the action.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	const p = "/emulator/v1/conversations"
	mux.HandleFunc("GET /emulator/console", func(w http.ResponseWriter, r *http.Request) {
		s.learnBaseURL(r)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(consoleHTML)
	})
	mux.HandleFunc("GET /emulator/v1/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		s.learnBaseURL(r)
		writeJSON(w, http.StatusOK, map[string]any{"conversations": s.Conversations()})
	})
	mux.HandleFunc("GET "+p+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		// The conversation's info plus importedHistory (history.go).
		view, err := s.conversationView(r.PathValue("id"))
		if err != nil {
			writeControlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, view)
	})
	mux.HandleFunc("GET "+p+"/{id}/transcript", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := s.Conversation(id); err != nil {
			writeControlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"conversationId": id, "entries": s.Transcript(id)})
	})
	mux.HandleFunc("GET "+p+"/{id}/presence", func(w http.ResponseWriter, r *http.Request) {
		out, err := s.UserPresence(r.PathValue("id"))
		if err != nil {
			writeControlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
	// action registers a body-less POST action.
	action := func(path string, run func(id string) (any, error)) {
		mux.HandleFunc("POST "+p+"/{id}/"+path, func(w http.ResponseWriter, r *http.Request) {
			s.learnBaseURL(r)
			out, err := run(r.PathValue("id"))
			if err != nil {
				writeControlError(w, err)
				return
			}
			if out == nil {
				out = map[string]any{"ok": true}
			}
			writeJSON(w, http.StatusOK, out)
		})
	}
	entry := func(id string, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return map[string]string{"entryId": id}, nil
	}
	// Handlers with a body decode into a fresh value per request.
	mux.HandleFunc("POST "+p+"/{id}/accept", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Agent string `json:"agent"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return nil, s.Accept(id, b.Agent) })
	})
	mux.HandleFunc("POST "+p+"/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Text string `json:"text"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.AgentSend(id, b.Text)) })
	})
	mux.HandleFunc("POST "+p+"/{id}/links", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.AgentSendLink(id, b.URL, b.Title)) })
	})
	mux.HandleFunc("POST "+p+"/{id}/files", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Name       string `json:"name"`
			MimeType   string `json:"mimeType"`
			DataBase64 string `json:"dataBase64"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) {
			data, err := base64.StdEncoding.DecodeString(b.DataBase64)
			if err != nil {
				return nil, badRequest("dataBase64: " + err.Error())
			}
			return entry(s.AgentSendFile(id, b.Name, b.MimeType, data))
		})
	})
	mux.HandleFunc("POST "+p+"/{id}/typing", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Started bool `json:"started"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return nil, s.AgentTyping(id, b.Started) })
	})
	mux.HandleFunc("POST "+p+"/{id}/transfer", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Agent string `json:"agent"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return nil, s.Transfer(id, b.Agent) })
	})
	action("read", func(id string) (any, error) { return nil, s.AgentRead(id) })
	action("end", func(id string) (any, error) { return nil, s.AgentEnd(id) })
	action("timeout", func(id string) (any, error) { return nil, s.TimeoutQueue(id) })
	action("fail-transfer", func(id string) (any, error) { return nil, s.FailTransfer(id) })
	action("stall-transfer", func(id string) (any, error) { return nil, s.StallTransfer(id) })
	action("inactive", func(id string) (any, error) { return nil, s.MarkInactive(id) })
	s.richControlRoutes(mux, p)
	mux.HandleFunc("POST "+p+"/{id}/upload-failures", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			MessageID string `json:"messageId"`
			ErrorType string `json:"errorType"`
		}
		s.controlDo(w, r, &b, func(id string) (any, error) { return entry(s.FailUpload(id, b.MessageID, b.ErrorType)) })
	})
	mux.HandleFunc("POST /emulator/v1/routing", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Silent bool `json:"silent"`
		}
		if err := decodeJSON(w, r, &b); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.SetSilentRouting(b.Silent)
		writeJSON(w, http.StatusOK, map[string]any{"silent": b.Silent})
	})
	// The Conversation History API's refusal switch (403 code 10057):
	// POST {"refused": bool} answers {"refused": bool}; GET also says
	// whether the API is enabled (Config.ConversationHistory).
	mux.HandleFunc("GET /emulator/v1/conversation-history", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"refused": s.ConversationHistoryRefused(), "enabled": s.cfg.ConversationHistory != nil})
	})
	mux.HandleFunc("POST /emulator/v1/conversation-history", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Refused *bool `json:"refused"`
		}
		if err := decodeJSON(w, r, &b); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if b.Refused == nil {
			writeError(w, http.StatusBadRequest, `give "refused": true or false`)
			return
		}
		s.SetConversationHistoryRefused(*b.Refused)
		writeJSON(w, http.StatusOK, map[string]any{"refused": *b.Refused})
	})
}

type badRequest string

func (b badRequest) Error() string { return string(b) }

func (s *Server) controlDo(w http.ResponseWriter, r *http.Request, body any, run func(id string) (any, error)) {
	s.learnBaseURL(r)
	if err := decodeJSON(w, r, body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := run(r.PathValue("id"))
	if err != nil {
		writeControlError(w, err)
		return
	}
	if out == nil {
		out = map[string]any{"ok": true}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeControlError(w http.ResponseWriter, err error) {
	var br badRequest
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrState):
		writeError(w, http.StatusConflict, err.Error())
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}
