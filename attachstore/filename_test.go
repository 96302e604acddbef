package attachstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeFilename(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"invoice.pdf", "invoice.pdf"},
		{"/etc/passwd", "passwd"},
		{`C:\Users\jane\report.docx`, "report.docx"},
		{"../../secret.txt", "secret.txt"},
		{"..", DefaultFilename},
		{".", DefaultFilename},
		{"", DefaultFilename},
		{"   ", DefaultFilename},
		{".bashrc", "bashrc"},
		{"...hidden.png", "hidden.png"},
		{"dir/", DefaultFilename},
		{"evil\x00name\r\n.txt", "evilname.txt"},
		{"ansi\x1b[31mred.txt", "ansi[31mred.txt"},
		{"bidi\u202egnp.exe", "bidignp.exe"},
		{`a<b>c:d"e|f?g*h.txt`, "a_b_c_d_e_f_g_h.txt"},
		{"trailing dots...", "trailing dots"},
		{"tab\tseparated.csv", "tabseparated.csv"},
		{"résumé 2026.pdf", "résumé 2026.pdf"},
		{"bad\xffutf8.txt", "badutf8.txt"},
	}
	for _, tt := range tests {
		if got := SanitizeFilename(tt.in); got != tt.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeFilenameLength(t *testing.T) {
	long := strings.Repeat("é", 300) + ".pdf"
	got := SanitizeFilename(long)
	if len(got) > MaxFilenameBytes {
		t.Fatalf("len = %d, want <= %d", len(got), MaxFilenameBytes)
	}
	if !utf8.ValidString(got) {
		t.Fatalf("result is not valid UTF-8: %q", got)
	}
	if !strings.HasSuffix(got, ".pdf") {
		t.Fatalf("extension lost: %q", got)
	}
	// A long name without extension is cut too.
	if got := SanitizeFilename(strings.Repeat("a", 1000)); len(got) != MaxFilenameBytes {
		t.Fatalf("len = %d, want %d", len(got), MaxFilenameBytes)
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", "\x00", ".", "a/b\\c", strings.Repeat("ü", 150)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeFilename(in)
		if got == "" {
			t.Fatal("empty result")
		}
		if len(got) > MaxFilenameBytes || !utf8.ValidString(got) {
			t.Fatalf("bad result %q", got)
		}
		if strings.ContainsAny(got, "/\\\x00") || strings.HasPrefix(got, ".") || got == ".." {
			t.Fatalf("unsafe result %q from %q", got, in)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", got)
			}
		}
	})
}
