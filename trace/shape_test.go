package trace

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Output formats keep their shape whatever the fields hold: one event is
// one line of text, one Mermaid statement, one JSON line; JSON is valid
// UTF-8 and round-trips every byte.

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain /sys/devices/x: ok": "plain /sys/devices/x: ok",
		"two\nlines":               `two\nlines`,
		"cr\rlf\n":                 `cr\rlf\n`,
		"tab\there":                `tab\there`,
		"\x1b[31mred\x1b[0m":       `\x1b[31mred\x1b[0m`,
		"nul\x00 del\x7f":          `nul\x00 del\x7f`,
		`back\slash`:               `back\\slash`,
		"bad \xff\xfe utf8":        `bad \xff\xfe utf8`,
		"line\u2028sep\u2029":      `line\u2028sep\u2029`,
		"c1 \u0085 next":           `c1 \u0085 next`,
		"bidi \u202eevil":          `bidi \u202eevil`,
		"naïve ✓ 日本 emoji 🙂":       "naïve ✓ 日本 emoji 🙂",
		"nbsp\u00a0ok":             "nbsp\u00a0ok",
	} {
		assert.Equal(t, want, Escape(in), "%q", in)
		assert.Equal(t, in, unescape(t, Escape(in)), "%q round-trips", in)
	}
}

// unescape undoes Escape: its escapes are Go's string-literal escapes.
func unescape(t *testing.T, s string) string {
	t.Helper()
	u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
	require.NoError(t, err, "%q", s)
	return u
}

// hostile is an event whose every field holds what breaks a line.
func hostile() Event {
	return Event{Seq: 7, Task: "t\nask", Kind: Kind("k\r"), Dev: "/sys/devices/a\x1b[2J", Func: "f\u2028", Msg: "m\nsg \xff; #1 %% <x>\r"}
}

func TestTextIsOneLinePerEvent(t *testing.T) {
	ev := hostile()
	line := ev.String()
	assertOneLine(t, line)
	assert.Equal(t, `   7 [t\nask] f\u2028 /sys/devices/a\x1b[2J: m\nsg \xff; #1 %% <x>\r`, line)
	text := Text([]Event{ev, ev})
	assert.Equal(t, 2, strings.Count(text, "\n"))
}

func TestMermaidIsOneStatementPerEvent(t *testing.T) {
	var b bytes.Buffer
	sw := Event{Seq: 8, Task: "t\nask", Kind: Sched, Func: "schedule", Msg: "x -> other\rtask"}
	require.NoError(t, WriteMermaid(&b, []Event{hostile(), sw}))
	out := b.String()
	assert.True(t, utf8.ValidString(out))
	assert.NotContains(t, out, "\r")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// header, two participants, two statements
	require.Len(t, lines, 5, out)
	assert.Equal(t, `    participant T0 as t\nask`, lines[1])
	assert.Equal(t, `    participant T1 as other\rtask`, lines[2])
	assert.Equal(t, `    Note over T0: 7 f\u2028 /sys/devices/a\x1b[2J: m\nsg \xff#59; #35;1 #37;#37; #60;x#62;\r`, lines[3])
}

func TestJSONInvalidUTF8RoundTrips(t *testing.T) {
	evs := []Event{hostile(), {Seq: 9, Kind: Note, Func: "ok", Msg: "valid"}}
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, evs))
	out := b.String()
	assert.True(t, utf8.ValidString(out))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, `{"seq":7,"task":"t\nask","kind":"k\r","dev":"/sys/devices/a\u001b[2J","func":"f\u2028","msg":"m\nsg `+"\uFFFD"+`; #1 %% <x>\r","raw":{"msg":"bQpzZyD/OyAjMSAlJSA8eD4N"}}`, lines[0])
	assert.Equal(t, `{"seq":9,"task":"","kind":"note","dev":"","func":"ok","msg":"valid"}`, lines[1], "no raw for valid UTF-8")
	back, err := ReadJSON(&b)
	require.NoError(t, err)
	assert.Equal(t, evs, back)
}

func assertOneLine(t *testing.T, s string) {
	t.Helper()
	assert.True(t, utf8.ValidString(s), "%q", s)
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("control character %U in %q", r, s)
		}
	}
}
