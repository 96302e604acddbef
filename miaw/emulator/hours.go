package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// The deployments' business hours, served at GET
// /embeddedservice/v1/businesshours?orgId=…&esConfigName=<deployment> in
// Salesforce's shape
// {"businessHoursInfo":{"name","isActive","businessHours":[{"startTime","endTime"}]}}
// (epoch milliseconds). By default the emulator is open around the clock: it
// answers one rolling window from an hour ago to a day ahead. Tests, the
// control API and the console replace that with explicit windows or with
// "closed" (no window at all), per deployment name.
//
// The emulator serves one deployment (Config.DeploymentName), which always
// has business hours. Hours can also be set for other deployment names
// (SetBusinessHoursFor): the business-hours endpoint then answers them for
// that esConfigName, while the rest of the API still knows only
// Config.DeploymentName.
//
// Unknown esConfigName (neither Config.DeploymentName nor a name given
// hours): 400 {"message":"No Embedded Service deployment found with the
// name \"…\".","status":400}, the answer the emulator gives for an unknown
// deployment on every other endpoint. Confidence: low. Salesforce documents
// no error for this endpoint (docs/miaw-api.md §1.18 records only the
// success shape, and that an answer without businessHoursInfo is read as "no
// business hours"); the status and text are the emulator's convention, not
// observed. We chose an error over a 200 without businessHoursInfo because
// the latter would make a misspelt deployment name look "always open" to a
// client, hiding the misconfiguration.

// businessHoursName is the record name the emulator reports.
const businessHoursName = "Emulator Business Hours"

// hoursState is one deployment's business-hours setting. Guarded by
// Server.mu; Server.hours maps deployment names to it (absent: the default).
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
	// Deployment is the deployment name (esConfigName) the hours are for.
	Deployment string `json:"deployment"`
	// Open is true when now is within one of Windows.
	Open bool `json:"open"`
	// Scheduled is false for the default (open around the clock).
	Scheduled bool `json:"scheduled"`
	// Windows are the windows the business-hours endpoint answers now.
	Windows []BusinessHoursWindow `json:"windows"`
}

// deploymentOrDefault maps "" to Config.DeploymentName.
func (s *Server) deploymentOrDefault(deployment string) string {
	if deployment == "" {
		return s.cfg.DeploymentName
	}
	return deployment
}

// SetBusinessHours replaces the business hours of Config.DeploymentName;
// see SetBusinessHoursFor.
func (s *Server) SetBusinessHours(windows []miaw.TimeWindow) {
	s.SetBusinessHoursFor(s.cfg.DeploymentName, windows)
}

// SetBusinessHoursFor replaces a deployment's business hours with windows
// (absolute times; no window at all means closed with no known opening).
// Windows whose end is not after their start are ignored. deployment is the
// esConfigName the endpoint is asked with ("" = Config.DeploymentName);
// another name becomes known to the business-hours endpoint only.
func (s *Server) SetBusinessHoursFor(deployment string, windows []miaw.TimeWindow) {
	deployment = s.deploymentOrDefault(deployment)
	var ws []miaw.TimeWindow
	for _, w := range windows {
		if w.End.After(w.Start) {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b miaw.TimeWindow) int { return a.Start.Compare(b.Start) })
	s.setHours(deployment, hoursState{scheduled: true, windows: ws})
	s.log.Info("business hours set", "deployment", deployment, "windows", len(ws))
}

// SetBusinessHoursOpen switches the business hours of Config.DeploymentName
// to open around the clock (the default) or to closed (no window).
func (s *Server) SetBusinessHoursOpen(open bool) {
	s.SetBusinessHoursOpenFor(s.cfg.DeploymentName, open)
}

// SetBusinessHoursOpenFor switches a deployment's business hours to open
// around the clock (the default) or to closed (no window); deployment as for
// SetBusinessHoursFor.
func (s *Server) SetBusinessHoursOpenFor(deployment string, open bool) {
	if !open {
		s.SetBusinessHoursFor(deployment, nil)
		return
	}
	deployment = s.deploymentOrDefault(deployment)
	s.setHours(deployment, hoursState{})
	s.log.Info("business hours set", "deployment", deployment, "open", true)
}

func (s *Server) setHours(deployment string, h hoursState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hours == nil {
		s.hours = map[string]hoursState{}
	}
	s.hours[deployment] = h
}

// BusinessHours returns the business hours of Config.DeploymentName as the
// endpoint answers them now.
func (s *Server) BusinessHours() BusinessHoursState {
	st, _ := s.BusinessHoursFor(s.cfg.DeploymentName)
	return st
}

// BusinessHoursFor returns a deployment's business hours as the endpoint
// answers them now ("" = Config.DeploymentName). known is false for a name
// that is not Config.DeploymentName and was never given hours: the
// endpoint answers 400 for it.
func (s *Server) BusinessHoursFor(deployment string) (st BusinessHoursState, known bool) {
	deployment = s.deploymentOrDefault(deployment)
	now := time.Now()
	s.mu.Lock()
	h, known := s.hours[deployment]
	s.mu.Unlock()
	known = known || deployment == s.cfg.DeploymentName
	st = BusinessHoursState{Deployment: deployment, Scheduled: h.scheduled, Windows: []BusinessHoursWindow{}}
	if !known {
		return st, false
	}
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
	return st, true
}

// businessHoursInfo is the wire shape of the business-hours endpoint.
type businessHoursInfo struct {
	Name          string                `json:"name"`
	IsActive      bool                  `json:"isActive"`
	BusinessHours []BusinessHoursWindow `json:"businessHours"`
}

func (s *Server) handleBusinessHours(w http.ResponseWriter, r *http.Request) {
	if !s.embeddedServiceOrgOK(w, r) {
		return
	}
	name := r.URL.Query().Get("esConfigName")
	st, known := s.BusinessHoursFor(name)
	if name == "" || !known {
		s.deploymentOK(w, name, true) // answers 400 (see the top of this file)
		return
	}
	writeJSON(w, http.StatusOK, map[string]businessHoursInfo{"businessHoursInfo": {
		Name: businessHoursName, IsActive: true, BusinessHours: st.Windows,
	}})
}

// hoursControlRoutes registers GET and POST /emulator/v1/businesshours. GET
// takes an optional ?deployment= (default Config.DeploymentName; 404 for a
// name never given hours). The POST body is {"open": true|false} or
// {"windows": [{"startTime", "endTime"}]} (epoch milliseconds), with an
// optional "deployment" (default Config.DeploymentName); it answers the
// deployment's new state.
func (s *Server) hoursControlRoutes(mux *http.ServeMux) {
	const p = "/emulator/v1/businesshours"
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		st, known := s.BusinessHoursFor(r.URL.Query().Get("deployment"))
		if !known {
			writeError(w, http.StatusNotFound, "no business hours for deployment "+strconv.Quote(st.Deployment)+": set some first (POST with \"deployment\")")
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST "+p, func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Deployment string                 `json:"deployment"`
			Open       *bool                  `json:"open"`
			Windows    *[]BusinessHoursWindow `json:"windows"`
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
			s.SetBusinessHoursOpenFor(b.Deployment, *b.Open)
		default:
			ws := make([]miaw.TimeWindow, 0, len(*b.Windows))
			for i, win := range *b.Windows {
				if win.EndTime <= win.StartTime {
					writeError(w, http.StatusBadRequest, "windows["+strconv.Itoa(i)+"]: endTime must be after startTime")
					return
				}
				ws = append(ws, miaw.TimeWindow{Start: time.UnixMilli(win.StartTime), End: time.UnixMilli(win.EndTime)})
			}
			s.SetBusinessHoursFor(b.Deployment, ws)
		}
		st, _ := s.BusinessHoursFor(b.Deployment)
		writeJSON(w, http.StatusOK, st)
	})
}
