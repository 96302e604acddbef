package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// runInteractive lets a person type as the user while another person (or
// the same one, in a browser) acts as the agent in the emulator console.
func runInteractive(ctx context.Context, st *stack, out *printer, in io.Reader) error {
	api := newGatewayClient(st.gatewayURL, st.token)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	read := func() (string, bool) {
		select {
		case l, ok := <-lines:
			return strings.TrimSpace(l), ok
		case <-ctx.Done():
			return "", false
		}
	}

	out.plain("\nAct as the agent in the emulator console: %s/emulator/console", st.emuURL)
	out.plain("Topics: %s", strings.Join(demoTopics, ", "))
	out.plain("Describe your problem (empty line = %q):", demoDescription)
	description, ok := read()
	if !ok {
		return nil
	}
	if description == "" {
		description = demoDescription
	}
	s := &session{api: api, recv: st.recv, out: out, userID: demoUser}
	if err := s.start(ctx, demoTopic, description); err != nil {
		return err
	}
	out.plain("Type messages; /file <path> sends a file, /pick <n> picks option n of the agent's last choices, /state shows the session, /close ends it.")

	closed := make(chan struct{})
	go func() {
		if _, _, err := st.recv.await(ctx, 0, "the end", isClosed, nil); err == nil {
			close(closed)
		}
	}()
	n := 0
	for {
		var line string
		select {
		case <-closed:
			out.plain("The session has closed.")
			return nil
		case l, ok := <-lines:
			if !ok {
				_, err := api.close(ctx, s.userID, "close-eof", "the user left")
				return err
			}
			line = strings.TrimSpace(l)
		case <-ctx.Done():
			return nil
		}
		if line == "" {
			continue
		}
		n++
		id := fmt.Sprintf("tty-%d", n)
		switch {
		case line == "/close":
			res, err := api.close(ctx, s.userID, id, "closed by the user")
			if err != nil {
				out.logf("close: %v", err)
				continue
			}
			out.line("you closed the chat -> %s", res.Status)
		case line == "/state":
			stv, err := api.state(ctx, s.userID)
			if err != nil {
				out.logf("state: %v", err)
				continue
			}
			out.line("state %s, agent %q, queue position %d, %d transcript entries", stv.State, stv.AgentName, stv.QueuePosition, len(stv.Transcript))
		case strings.HasPrefix(line, "/pick "):
			if err := s.pickOption(ctx, id, strings.TrimSpace(strings.TrimPrefix(line, "/pick "))); err != nil {
				out.logf("pick: %v", err)
			}
		case strings.HasPrefix(line, "/file "):
			path := strings.TrimSpace(strings.TrimPrefix(line, "/file "))
			data, err := os.ReadFile(path)
			if err != nil {
				out.logf("file: %v", err)
				continue
			}
			mt := mime.TypeByExtension(filepath.Ext(path))
			res, err := api.upload(ctx, s.userID, id, "", filepath.Base(path), mt, data)
			if err != nil {
				out.logf("file: %v", err)
				continue
			}
			out.line("you sent a file: %s (%d bytes) -> %s", filepath.Base(path), len(data), res.Status)
		default:
			if err := s.say(ctx, id, line); err != nil {
				out.logf("%v", err)
			}
		}
	}
}

// pickOption answers the agent's latest choices with option n (1-based).
func (s *session) pickOption(ctx context.Context, id, n string) error {
	got, _ := s.recv.snapshot()
	var offer *workflows.Delivery
	for i := len(got) - 1; i >= 0 && offer == nil; i-- {
		if isAgentChoices(got[i]) {
			offer = &got[i]
		}
	}
	if offer == nil {
		return errors.New("the agent has offered no choices")
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 || i > len(offer.Choices.Options) {
		return fmt.Errorf("pick a number from 1 to %d", len(offer.Choices.Options))
	}
	opt := offer.Choices.Options[i-1]
	res, err := s.api.sendChoice(ctx, s.userID, id, offer.ID, opt.ID)
	if err != nil {
		return err
	}
	s.out.line("you picked: %s -> %s", opt.Title, res.Status)
	return nil
}
