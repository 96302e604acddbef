// Package starter is the assistant's side of a live-agent session as a small
// Go client over Temporal: start (or find) the one session of a user, send
// the user's messages and files, close it, read its state and transcript,
// and list open sessions. It validates requests before they reach Temporal
// (errors wrap ErrInvalid) and never puts attachment bytes in workflow
// history: files go to the attachment store and only a reference travels.
//
// Availability (WithAvailability, package availability) says whether a live
// agent can be offered for a topic now; Start asks too and, while agents are
// offline, starts nothing and returns an *OfflineError (errors.Is
// ErrOffline) with the offline message and the next opening.
//
// The gateway (HTTP) and the liveagent CLI (cmd/liveagent) are built
// on it.
package starter
