package emulator

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// handleSSE serves GET /eventrouter/v1/sse: one stream per end user carrying
// the events of all their conversations. Last-Event-ID (any header case)
// resumes exactly after that id from the user's replay ring; events that left
// the ring or are older than Config.ReplayWindow are not replayed (counted in
// Stats.ReplayExpired), and the stream carries on silently. The stream ends at
// the access token's expiry; the reconnect then gets 401 "Jwt is expired".
func (s *Server) handleSSE(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	s.learnBaseURL(r)
	claims, ok := s.authenticateStream(w, r)
	if !ok {
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	lastID := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	sub := &subscriber{ch: make(chan *sseEvent, 1024), kick: make(chan struct{}), jti: claims.ID}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	u := s.userLocked(claims.Subject)
	var replay []*sseEvent
	if lastID != "" {
		if seq, ok := parseEventSeq(lastID); ok {
			replay = s.replayableLocked(u, seq)
			if first := seq + 1; (len(replay) > 0 && replay[0].seq > first) || (len(replay) == 0 && u.seq >= first) {
				// Like Salesforce past its replay window, the stream
				// carries on from what it still has, without a word.
				s.stats.replayExpired.Add(1)
				s.log.Warn("Last-Event-ID is older than the replay window; events were lost", "subject", claims.Subject, "lastEventId", lastID)
			}
		} else {
			s.log.Warn("unknown Last-Event-ID; streaming live events only", "lastEventId", lastID)
		}
	}
	u.subs[sub] = struct{}{}
	u.opens = append(u.opens, time.Now())
	if over := len(u.opens) - maxStreamOpens; over > 0 {
		u.opens = append([]time.Time(nil), u.opens[over:]...)
	}
	s.mu.Unlock()
	s.stats.streamsOpened.Add(1)
	defer func() {
		s.mu.Lock()
		delete(u.subs, sub)
		s.mu.Unlock()
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream;charset=UTF-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()

	bw := bufio.NewWriter(w)
	expiry := time.NewTimer(time.Until(claims.ExpiresAt.Time))
	defer expiry.Stop()
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	faults := s.cfg.Faults
	written := 0
	pings := 0

	// send writes one event (with fault injection); it returns false when the
	// stream must end.
	send := func(ev *sseEvent) bool {
		faults := faults
		if s.faultsPaused.Load() {
			faults = Faults{}
		}
		if faults.EventDelay > 0 {
			s.stats.faultDelays.Add(1)
			select {
			case <-time.After(faults.EventDelay):
			case <-r.Context().Done():
				return false
			case <-s.done:
				return false
			}
		}
		copies := 1
		if s.chance(faults.DuplicateRate) {
			copies = 2
			s.stats.faultDuplicates.Add(1)
		}
		for range copies {
			fmt.Fprintf(bw, "event: %s\nid: %s\ndata: %s\n\n", ev.name, ev.id, ev.data)
			s.stats.eventsSent.Add(1)
		}
		if err := bw.Flush(); err != nil {
			return false
		}
		flusher.Flush()
		written++
		if faults.DropStreamEvery > 0 && written >= faults.DropStreamEvery {
			s.stats.faultDrops.Add(1)
			return false
		}
		return true
	}

	for _, ev := range replay {
		s.stats.replayed.Add(1)
		if !send(ev) {
			return
		}
	}
	for {
		select {
		case ev := <-sub.ch:
			if !send(ev) {
				return
			}
		case <-ping.C:
			s.stats.pingsSent.Add(1)
			fmt.Fprintf(bw, "event: ping\ndata: %d\n\n", pings)
			pings++
			if bw.Flush() != nil {
				return
			}
			flusher.Flush()
		case <-expiry.C:
			// Headers are sent, so the 401 cannot be the status of this
			// response: the stream ends and the reconnect gets 401 "Jwt is expired".
			s.stats.expiredStreams.Add(1)
			return
		case <-sub.kick:
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// replayableLocked returns the events of u after seq that the stream can
// still replay: those in the ring (Config.ReplayBuffer) published within
// Config.ReplayWindow. Callers hold s.mu.
func (s *Server) replayableLocked(u *user, seq int64) []*sseEvent {
	var out []*sseEvent
	now := time.Now()
	for _, ev := range u.ring {
		if ev.seq <= seq || (s.cfg.ReplayWindow > 0 && now.Sub(ev.at) > s.cfg.ReplayWindow) {
			continue
		}
		out = append(out, ev)
	}
	return out
}
