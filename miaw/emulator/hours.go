package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// The deployment's business hours, served at GET
// /embeddedservice/v1/businesshours in Salesforce's shape
// {"businessHoursInfo":{"name","isActive","businessHours":[{"startTime","endTime"}]}}
// (epoch milliseconds). By default the emulator is open around the clock: it
// answers one rolling window from an hour ago to a day ahead. Tests, the
// control API and the console replace that with explicit windows or with
// "closed" (no window at all).

// businessHoursName is the record name the emulator reports.
const businessHoursName = "Emulator Business Hours"

// hoursState is the business-hours setting. Guarded by Server.mu.
type hoursState struct {
	// scheduled is true once explicit windows were set (windows may then be
	// empty: closed); false is the default rolling window.
	scheduled bool
	windows   []miaw.TimeWindow
}

// BusinessHoursWindow is one window on the control API, in Salesforce's
// epoch milliseconds.
type BusinessHoursWindow struct {
	StartTime int64 `json:"startTime"`
	EndTime   int64 `json:"endTime"`
}

// BusinessHoursState is what GET /emulator/v1/businesshours answers.
type BusinessHoursState struct {
	// Open is true when now is within one of Windows.
	Open bool `json:"open"`
	// Scheduled is false for the default (open around the clock).
	Scheduled bool `json:"scheduled"`
	// Windows are the windows the business-hours endpoint answers now.
	Windows []BusinessHoursWindow `json:"windows"`
}

// SetBusinessHours replaces the deployment's business hours with windows
// (absolute times; no window at all means closed with no known opening).
// Windows whose end is not after their start are ignored.
func (s *Server) SetBusinessHours(windows []miaw.TimeWindow) {
	var ws []miaw.TimeWindow
	for _, w := range windows {
		if w.End.After(w.Start) {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b miaw.TimeWindow) int { return a.Start.Compare(b.Start) })
	s.mu.Lock()
	s.hours = hoursState{scheduled: true, windows: ws}
	s.mu.Unlock()
	s.log.Info("business hours set", "windows", len(ws))
}

// SetBusinessHoursOpen switches the business hours to open around the clock
// (the default) or to closed (no window).
func (s *Server) SetBusinessHoursOpen(open bool) {
	if !open {
		s.SetBusinessHours(nil)
		return
	}
	s.mu.Lock()
	s.hours = hoursState{}
	s.mu.Unlock()
	s.log.Info("business hours set", "open", true)
}

// BusinessHours returns the business hours as the endpoint answers them now.
func (s *Server) BusinessHours() BusinessHoursState {
	now := time.Now()
	s.mu.Lock()
	h := s.hours
	s.mu.Unlock()
	st := BusinessHoursState{Scheduled: h.scheduled, Windows: []BusinessHoursWindow{}}
	windows := h.windows
	if !h.scheduled {
		windows = []miaw.TimeWindow{{Start: now.Add(-time.Hour), End: now.Add(24 * time.Hour)}}
	}
	for _, w := range windows {
		if !w.End.After(now) {
			continue // Salesforce lists current and coming windows
		}
		st.Windows = append(st.Windows, BusinessHoursWindow{StartTime: millis(w.Start), EndTime: millis(w.End)})
		st.Open = st.Open || !w.Start.After(now)
	}
	return st
}

// businessHoursInfo is the wire shape of the business-hours endpoint.
type businessHoursInfo struct {
	Name          string                `json:"name"`
	IsActive      bool                  `json:"isActive"`
	BusinessHours []BusinessHoursWindow `json:"businessHours"`
}

func (s *Server) handleBusinessHours(w http.ResponseWriter, r *http.Request) {
	if !s.embeddedServiceQueryOK(w, r) {
		return
	}
	st := s.BusinessHours()
	writeJSON(w, http.StatusOK, map[string]businessHoursInfo{"businessHoursInfo": {
		Name: businessHoursName, IsActive: true, BusinessHours: st.Windows,
	}})
}

// hoursControlRoutes registers GET and POST /emulator/v1/businesshours. The
// POST body is {"open": true|false} or {"windows": [{"startTime", "endTime"}]}
// (epoch milliseconds); it answers the new state.
func (s *Server) hoursControlRoutes(mux *http.ServeMux) {
	const p = "/emulator/v1/businesshours"
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.BusinessHours())
	})
	mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Open    *bool                  `json:"open"`
			Windows *[]BusinessHoursWindow `json:"windows"`
		}
		if err := decodeJSON(w, r, &b); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch {
		case (b.Open == nil) == (b.Windows == nil):
			writeError(w, http.StatusBadRequest, `give exactly one of "open" (true or false) and "windows" ([{"startTime","endTime"}] in epoch milliseconds)`)
			return
		case b.Open != nil:
			s.SetBusinessHoursOpen(*b.Open)
		default:
			ws := make([]miaw.TimeWindow, 0, len(*b.Windows))
			for i, win := range *b.Windows {
				if win.EndTime <= win.StartTime {
					writeError(w, http.StatusBadRequest, "windows["+strconv.Itoa(i)+"]: endTime must be after startTime")
					return
				}
				ws = append(ws, miaw.TimeWindow{Start: time.UnixMilli(win.StartTime), End: time.UnixMilli(win.EndTime)})
			}
			s.SetBusinessHours(ws)
		}
		writeJSON(w, http.StatusOK, s.BusinessHours())
	})
}
