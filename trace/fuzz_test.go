package trace

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the trace formats. `go test` runs their seeds (f.Add
// and testdata/fuzz/<Target>); docs/testing.md says how to fuzz them.

// FuzzEscape: Escape gives one line of printable UTF-8 and is injective
// (it unescapes back to its input).
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "\r\x1b[2J", `\n`, "\xff\xfe", "\u2028\u202e", "\\\x00", "日本\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		assertOneLine(t, e)
		if got := unescape(t, e); got != s {
			t.Fatalf("Escape(%q) = %q unescapes to %q", s, e, got)
		}
	})
}

// FuzzFormats: whatever an event's fields hold, its text form is one line,
// its Mermaid form one statement, and its JSON form one line of valid
// UTF-8 that ReadJSON turns back into the same event, byte for byte.
func FuzzFormats(f *testing.F) {
	f.Add("reader", "probe.result", "/sys/devices/platform/foo", "call_driver_probe", "driver=foo ret=0")
	f.Add("t\nask", "k\r", "/sys/devices/a\x1b[2J", "f\u2028", "m\nsg \xff; #1 %% <x>\r")
	f.Add("", "sched", "", "schedule", "a -> b\nc")
	f.Add("\xc3", "\xe2\x80", "\"", `\`, "\u0000")
	f.Fuzz(func(t *testing.T, task, kind, dev, fn, msg string) {
		ev := Event{Seq: 3, Task: task, Kind: Kind(kind), Dev: dev, Func: fn, Msg: msg}
		sw := Event{Seq: 4, Task: task, Kind: Sched, Func: "schedule", Msg: msg + " -> " + dev}
		evs := []Event{ev, sw}

		line := ev.String()
		assertOneLine(t, line)
		if n := strings.Count(Text(evs), "\n"); n != 2 {
			t.Fatalf("text: %d lines for 2 events", n)
		}

		var m bytes.Buffer
		if err := WriteMermaid(&m, evs); err != nil {
			t.Fatal(err)
		}
		out := m.String()
		if !utf8.ValidString(out) {
			t.Fatalf("mermaid: invalid UTF-8 %q", out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		participants := 0
		for _, l := range lines {
			assertOneLine(t, l)
			if strings.HasPrefix(l, "    participant ") {
				participants++
			}
		}
		if len(lines) != 1+participants+len(evs) {
			t.Fatalf("mermaid: %d lines for %d participants and %d events:\n%s", len(lines), participants, len(evs), out)
		}

		var j bytes.Buffer
		if err := WriteJSON(&j, evs); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(j.Bytes()) {
			t.Fatalf("json: invalid UTF-8")
		}
		if n := bytes.Count(j.Bytes(), []byte("\n")); n != len(evs) {
			t.Fatalf("json: %d lines for %d events", n, len(evs))
		}
		back, err := ReadJSON(&j)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(evs) || back[0] != ev || back[1] != sw {
			t.Fatalf("json round trip:\n got %q\nwant %q", back, evs)
		}
	})
}
