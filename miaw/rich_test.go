package miaw

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

func TestSendChoicesResponse(t *testing.T) {
	f := newFakeSF(t)
	path := conversationPath(testConvID, "/message")
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": "entry-9", "clientTimestamp": 1700000000000}}})
	})
	c, _ := newTestClient(t, testConfig(f))
	res, err := c.SendChoicesResponse(context.Background(), testUser, testConvID, ChoicesResponse{
		ID: testMsgID, InReplyToMessageID: "choices-msg-1", OptionIDs: []string{"opt-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.EntryID != "entry-9" {
		t.Fatalf("result %+v", res)
	}
	body := onlyRequest(t, f, "POST", path).jsonBody(t)
	want := map[string]any{
		"esDeveloperName": testDeployment,
		"message": map[string]any{"id": testMsgID, "messageType": "ChoicesResponseMessage", "inReplyToMessageId": "choices-msg-1",
			"choicesResponse": map[string]any{"formatType": "Selections", "selectedOptions": []any{map[string]any{"optionIdentifier": "opt-2"}}}},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v\nwant %v", body, want)
	}
}

func TestSendChoicesResponseRejectsIncompleteAnswers(t *testing.T) {
	c, _ := newTestClient(t, testConfig(newFakeSF(t)))
	for name, r := range map[string]ChoicesResponse{
		"no reply target": {ID: testMsgID, OptionIDs: []string{"a"}},
		"no option":       {ID: testMsgID, InReplyToMessageID: "m"},
		"blank option":    {ID: testMsgID, InReplyToMessageID: "m", OptionIDs: []string{" "}},
		"bad id":          {ID: "nope", InReplyToMessageID: "m", OptionIDs: []string{"a"}},
	} {
		if _, err := c.SendChoicesResponse(context.Background(), testUser, testConvID, r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeRichMessages(t *testing.T) {
	am := AbstractMessage{MessageType: MessageTypeChoices, Raw: []byte(`{"messageType":"ChoicesMessage","choices":{"formatType":"QuickReplies","text":"Pick",
		"optionItems":[{"optionIdentifier":"o1","titleItem":{"title":"One","subTitle":"first"}},{"optionIdentifier":"o2","title":"Two"}]}}`)}
	c, err := am.Choices()
	if err != nil {
		t.Fatal(err)
	}
	want := &ChoicesContent{FormatType: FormatQuickReplies, Text: "Pick", Options: []ChoiceOption{{ID: "o1", Title: "One", Subtitle: "first"}, {ID: "o2", Title: "Two"}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("choices = %+v, want %+v", c, want)
	}
	if _, err := (AbstractMessage{MessageType: MessageTypeForm, Raw: []byte(`{"messageType":"FormMessage"}`)}).Form(); err == nil {
		t.Error("a form message without a form decoded")
	}
}
