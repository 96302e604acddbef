// Command liveagent is the assistant's side of live-agent sessions on the
// command line, built on package starter:
//
//	liveagent [-config file] start -user u-42 -topic HR -description "My payslip is wrong"
//	liveagent [-config file] send -user u-42 [-id msg-1] Hello there
//	liveagent [-config file] send-file -user u-42 -file payslip.pdf [-mime application/pdf] [-caption "see"]
//	liveagent [-config file] close -user u-42 [-reason "solved"]
//	liveagent [-config file] state -user u-42
//	liveagent [-config file] list
//	liveagent [-config file] availability -topic HR [-locale fr-CA]
//
// It reads the same configuration as the worker (temporal.*, session.*,
// attachments.dir, codec.*): with codec.enabled it encrypts what it sends and
// decrypts what it reads with the worker's keys. send-file writes to the
// attachment store directly, so it must run where attachments.dir is the
// worker's store.
//
// Exit codes: 0 success, 1 failure, 2 usage, configuration or validation error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/logging"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const usage = `usage: liveagent [-config file] <command> [flags]

commands:
  start      -user ID -topic TOPIC -description TEXT [-locale en_US]   start (or find) the user's session
  send       -user ID [-id MSGID] TEXT...                              send a message to the agent
  send-file  -user ID -file PATH [-id MSGID] [-mime TYPE] [-caption T] send a file to the agent
  close      -user ID [-reason TEXT]                                   end the user's session
  state      -user ID                                                  show state and transcript
  list                                                                 list open sessions
  availability -topic TOPIC [-locale en_US]                            may a live agent be offered now?
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// usageError is reported with exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is the whole program. dial connects to Temporal; nil means
// temporalclient.Dial with the loaded configuration (tests inject their own).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, dial func(context.Context, *config.Config) (client.Client, error)) int {
	global := flag.NewFlagSet("liveagent", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := global.String("config", "", "YAML configuration file (LIVEAGENT_* / TEMPORAL_* env override it)")
	if err := global.Parse(args); err != nil {
		return 2
	}
	if global.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := global.Arg(0), global.Args()[1:]
	c := &command{stdout: stdout, configPath: *configPath, dial: dial}
	err := c.dispatch(ctx, cmd, rest, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, starter.ErrInvalid):
		fmt.Fprintln(stderr, "liveagent:", err)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintln(stderr, "liveagent:", err)
		return 1
	}
}

type command struct {
	stdout     io.Writer
	configPath string
	dial       func(context.Context, *config.Config) (client.Client, error)
}

func (c *command) dispatch(ctx context.Context, name string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("liveagent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user id")
	switch name {
	case "start":
		topic := fs.String("topic", "", "topic (one of session.topics)")
		desc := fs.String("description", "", "the user's problem, sent to the agent first")
		locale := fs.String("locale", "", "locale, e.g. en_US (default session.default_locale)")
		if err := parse(fs, args, false); err != nil {
			return err
		}
		return c.with(ctx, false, func(s *starter.Client) error {
			sess, err := s.Start(ctx, starter.StartRequest{UserID: *user, Topic: *topic, Description: *desc, Locale: *locale})
			if err != nil {
				return err
			}
			if sess.Existing {
				fmt.Fprintf(c.stdout, "Session %s is already running (run %s).\n", sess.WorkflowID, sess.RunID)
			} else {
				fmt.Fprintf(c.stdout, "Session %s started (run %s). Waiting for an agent...\n", sess.WorkflowID, sess.RunID)
			}
			return nil
		})
	case "send":
		id := fs.String("id", "", "message id (default: a new UUID); reuse it to retry safely")
		if err := parse(fs, args, true); err != nil {
			return err
		}
		text := strings.Join(fs.Args(), " ")
		return c.with(ctx, false, func(s *starter.Client) error {
			msgID := orNewID(*id)
			res, err := s.SendMessage(ctx, *user, msgID, text)
			if err != nil {
				return err
			}
			printResult(c.stdout, "Message", msgID, res)
			return nil
		})
	case "send-file":
		id := fs.String("id", "", "message id (default: a new UUID)")
		path := fs.String("file", "", "file to send")
		mimeType := fs.String("mime", "", "MIME type (default: from the extension or content)")
		caption := fs.String("caption", "", "optional caption")
		if err := parse(fs, args, false); err != nil {
			return err
		}
		if *path == "" {
			return usageError{"send-file: -file is required"}
		}
		data, err := os.ReadFile(*path)
		if err != nil {
			return fmt.Errorf("read %s: %w", *path, err)
		}
		mt := *mimeType
		if mt == "" {
			mt = detectMIME(*path, data)
		}
		return c.with(ctx, true, func(s *starter.Client) error {
			msgID := orNewID(*id)
			res, err := s.SendAttachment(ctx, *user, msgID, filepath.Base(*path), mt, *caption, bytes.NewReader(data))
			if err != nil {
				return err
			}
			printResult(c.stdout, "File", msgID, res)
			return nil
		})
	case "close":
		reason := fs.String("reason", "", "optional reason")
		if err := parse(fs, args, false); err != nil {
			return err
		}
		return c.with(ctx, false, func(s *starter.Client) error {
			res, err := s.Close(ctx, *user, "", *reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Session of %s: %s.\n", *user, res.Status)
			return nil
		})
	case "state":
		if err := parse(fs, args, false); err != nil {
			return err
		}
		return c.with(ctx, false, func(s *starter.Client) error {
			view, err := s.State(ctx, *user)
			if err != nil {
				return err
			}
			printState(c.stdout, view)
			return nil
		})
	case "list":
		if err := parse(fs, args, false); err != nil {
			return err
		}
		return c.with(ctx, false, func(s *starter.Client) error {
			list, err := s.ListOpen(ctx)
			if err != nil {
				return err
			}
			printList(c.stdout, list)
			return nil
		})
	case "availability":
		topic := fs.String("topic", "", "topic (one of session.topics)")
		locale := fs.String("locale", "", "the offline message's locale, e.g. fr-CA (default session.default_locale)")
		if err := parse(fs, args, false); err != nil {
			return err
		}
		return c.with(ctx, false, func(s *starter.Client) error {
			a, err := s.AvailabilityIn(ctx, *topic, *locale)
			if err != nil {
				return err
			}
			printAvailability(c.stdout, a)
			return nil
		})
	}
	return usageError{fmt.Sprintf("unknown command %q (start, send, send-file, close, state, list, availability)", name)}
}

// printAvailability prints one line, and the offline message when offline.
func printAvailability(w io.Writer, a starter.Availability) {
	switch {
	case a.Available && !a.AvailableUntil.IsZero():
		fmt.Fprintf(w, "%s: available until %s\n", a.Topic, a.AvailableUntil.UTC().Format(time.RFC3339))
	case a.Available:
		fmt.Fprintf(w, "%s: available (no known end)\n", a.Topic)
	case !a.NextOpen.IsZero():
		fmt.Fprintf(w, "%s: offline, next opening %s\n%s\n", a.Topic, a.NextOpen.UTC().Format(time.RFC3339), a.OfflineMessage)
	default:
		fmt.Fprintf(w, "%s: offline, no known opening\n%s\n", a.Topic, a.OfflineMessage)
	}
}

func parse(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if !allowArgs && fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %v", fs.Args())}
	}
	return nil
}

// with loads the configuration, connects to Temporal and runs f with a
// starter client. needStore opens the attachment store too.
func (c *command) with(ctx context.Context, needStore bool, f func(*starter.Client) error) error {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return usageError{err.Error()}
	}
	var store *attachstore.Store
	if needStore {
		if store, err = attachstore.Open(cfg.Attachments.Dir); err != nil {
			return fmt.Errorf("attachment store %s: %w", cfg.Attachments.Dir, err)
		}
	}
	dial := c.dial
	if dial == nil {
		dial = func(ctx context.Context, cfg *config.Config) (client.Client, error) {
			// With codec.enabled the CLI encrypts what it sends and decrypts
			// what it reads (state, update results) like the worker.
			encryption, err := temporalclient.EncryptionOptions(cfg)
			if err != nil {
				return nil, usageError{err.Error()}
			}
			// The CLI logs only problems: its output is for people.
			return temporalclient.Dial(ctx, cfg, logging.NewLogger(config.Log{Level: "error", Format: cfg.Log.Format}, os.Stderr), encryption...)
		}
	}
	dialCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	tc, err := dial(dialCtx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer tc.Close()
	// start is refused while live agents are offline (availability.*).
	s, err := wiring.Starter(cfg, tc, store, logging.NewLogger(config.Log{Level: "error", Format: cfg.Log.Format}, os.Stderr))
	if err != nil {
		return usageError{err.Error()}
	}
	return f(s)
}

func orNewID(id string) string {
	if id != "" {
		return id
	}
	return uuid.NewString()
}

func detectMIME(path string, data []byte) string {
	if t := mime.TypeByExtension(filepath.Ext(path)); t != "" {
		return t
	}
	return http.DetectContentType(data)
}

func printResult(w io.Writer, what, id string, res workflows.UpdateResult) {
	switch res.Status {
	case workflows.UpdateSent:
		fmt.Fprintf(w, "%s %s sent (entry %s).\n", what, id, res.EntryID)
	case workflows.UpdateQueued:
		if res.QueuedReason == workflows.QueuedPaced {
			fmt.Fprintf(w, "%s %s queued: Salesforce's message rate is used up for now; it is sent in order shortly.\n", what, id)
			break
		}
		fmt.Fprintf(w, "%s %s queued: it is sent once an agent accepts.\n", what, id)
	case workflows.UpdateDuplicate:
		fmt.Fprintf(w, "%s %s was already sent; nothing done.\n", what, id)
	default:
		fmt.Fprintf(w, "%s %s: %s.\n", what, id, res.Status)
	}
}

func printState(w io.Writer, v *workflows.SessionView) {
	fmt.Fprintf(w, "User:          %s\n", v.UserID)
	fmt.Fprintf(w, "Topic:         %s\n", v.Topic)
	fmt.Fprintf(w, "State:         %s", v.State)
	if v.CloseReason != "" {
		fmt.Fprintf(w, " (%s)", v.CloseReason)
	}
	fmt.Fprintln(w)
	if v.AgentName != "" {
		fmt.Fprintf(w, "Agent:         %s\n", v.AgentName)
	}
	if v.State == workflows.StateWaiting {
		if v.QueuePosition > 0 {
			fmt.Fprintf(w, "Queue:         position %d\n", v.QueuePosition)
		}
		if v.EstimatedWait >= 0 {
			fmt.Fprintf(w, "Estimated wait: %s\n", v.EstimatedWait.Round(time.Second))
		}
	}
	if v.ConversationID != "" {
		fmt.Fprintf(w, "Conversation:  %s\n", v.ConversationID)
	}
	if !v.StartedAt.IsZero() {
		fmt.Fprintf(w, "Started:       %s\n", v.StartedAt.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "Transcript (%d):\n", len(v.Transcript))
	for _, e := range v.Transcript {
		who := string(e.From)
		if e.SenderName != "" {
			who += " " + e.SenderName
		}
		line := e.Text
		if e.Link != nil {
			line = strings.TrimSpace(line + " [link] " + e.Link.Title + " <" + e.Link.URL + ">")
		}
		if a := e.Attachment; a != nil {
			line = strings.TrimSpace(fmt.Sprintf("%s [file] %s (%s, %d bytes) %s", line, a.Name, a.MimeType, a.Size, a.URL))
		}
		fmt.Fprintf(w, "  %s  %-16s %s\n", e.At.Local().Format(time.TimeOnly), who+":", line)
	}
}

func printList(w io.Writer, list []starter.SessionSummary) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No open sessions.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tTOPIC\tSTATE\tSTARTED\tWORKFLOW ID\tCONVERSATION")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.UserID, s.Topic, s.State,
			s.StartTime.Local().Format(time.DateTime), s.WorkflowID, s.ConversationID)
	}
	tw.Flush()
}
