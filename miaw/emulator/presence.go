package emulator

import (
	"slices"
	"time"
)

// maxPresenceRecords bounds the typing indicators and acknowledgements kept
// per conversation (the oldest are dropped).
const maxPresenceRecords = 1000

// UserTypingRecord is one typing indicator the end user's client sent
// (POST .../conversation/{id}/entry).
type UserTypingRecord struct {
	Started bool      `json:"started"` // TypingStartedIndicator; false: TypingStoppedIndicator
	At      time.Time `json:"at"`
}

// UserAckRecord is one acknowledgement the end user's client sent
// (POST .../conversation/{id}/acknowledge-entries).
type UserAckRecord struct {
	EntryID string    `json:"entryId"` // conversationEntryId: the acknowledged agent entry
	Type    string    `json:"type"`    // "Delivery" | "Read"
	At      time.Time `json:"at"`
}

// Presence is what the end user's client reported about itself: its typing
// indicators and acknowledgements, oldest first.
type Presence struct {
	Typing []UserTypingRecord `json:"typing"`
	Acks   []UserAckRecord    `json:"acks"`
}

// conversationPresence is kept in the conversation.
type conversationPresence struct {
	typing []UserTypingRecord
	acks   []UserAckRecord
}

func (p *conversationPresence) addTyping(r UserTypingRecord) {
	p.typing = appendBounded(p.typing, r)
}

func (p *conversationPresence) addAck(r UserAckRecord) {
	p.acks = appendBounded(p.acks, r)
}

func appendBounded[T any](s []T, v T) []T {
	s = append(s, v)
	if len(s) > maxPresenceRecords {
		s = slices.Delete(s, 0, len(s)-maxPresenceRecords)
	}
	return s
}

// UserPresence returns the typing indicators and acknowledgements the end
// user's client sent in a conversation.
func (s *Server) UserPresence(conversationID string) (Presence, error) {
	var out Presence
	err := s.withConv(conversationID, func(c *conversation) error {
		out = Presence{Typing: slices.Clone(c.presence.typing), Acks: slices.Clone(c.presence.acks)}
		if out.Typing == nil {
			out.Typing = []UserTypingRecord{}
		}
		if out.Acks == nil {
			out.Acks = []UserAckRecord{}
		}
		return nil
	})
	return out, err
}
