package attachstore

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameBytes is the longest name SanitizeFilename returns, in bytes.
const MaxFilenameBytes = 200

// DefaultFilename is what SanitizeFilename returns when nothing usable is left.
const DefaultFilename = "attachment"

// SanitizeFilename turns an untrusted file name into a safe base name: it
// drops any directory part (both / and \ separators), control and format
// characters, characters that are special on common file systems
// (<>:"|?* and NUL), leading dots and spaces (no hidden files, no "..") and
// trailing dots and spaces, and limits the result to MaxFilenameBytes bytes of
// valid UTF-8, keeping the extension when it has to shorten. It never returns
// an empty string: DefaultFilename stands in for a name with nothing usable.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	// Keep only the last path element, whatever the separator.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.TrimLeft(b.String(), ". ")
	name = strings.TrimRight(name, ". ")
	if len(name) > MaxFilenameBytes {
		name = shorten(name, MaxFilenameBytes)
	}
	if name == "" {
		return DefaultFilename
	}
	return name
}

// shorten cuts name to at most max bytes on a rune boundary, keeping a short
// extension.
func shorten(name string, max int) string {
	ext := path.Ext(name)
	if len(ext) > 16 || len(ext) >= max {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	limit := max - len(ext)
	for len(stem) > limit {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	return strings.TrimRight(stem, ". ") + ext
}
