// Package starter is the assistant's side of a live-agent session as a small
// Go client over Temporal: start (or find) the one session of a user, send
// the user's messages and files, close it, read its state and transcript,
// and list open sessions. It validates requests before they reach Temporal
// (errors wrap ErrInvalid) and never puts attachment bytes in workflow
// history: files go to the attachment store and only a reference travels.
//
// The gateway (HTTP) and the liveagent CLI (cmd/liveagent) are built
// on it.
package starter
