package trace

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleEvents() []Event {
	return []Event{
		{Seq: 1, Kind: Sched, Func: "schedule", Msg: "start -> reader"},
		{Seq: 2, Task: "reader", Kind: Lock, Func: "mutex_lock", Msg: "io_mutex"},
		{Seq: 3, Task: "reader", Kind: Sched, Func: "schedule", Msg: "block usb_start_wait_urb urb 1 -> unplug"},
		{Seq: 4, Task: "unplug", Kind: ProbeResult, Dev: "/sys/devices/usb1/1-1", Func: "call_driver_probe", Msg: `ret=0; #1 <ok> "x"`},
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		got, err := ParseFormat(string(f))
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := ParseFormat("yaml")
	assert.True(t, errors.Is(err, ErrUnknownFormat))
	assert.Contains(t, err.Error(), `"yaml"`)
	assert.True(t, errors.Is(Write(&bytes.Buffer{}, "yaml", nil), ErrUnknownFormat))
}

func TestJSONLinesStableFieldsAndRoundTrip(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, FormatJSON, sampleEvents()))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, `{"seq":1,"task":"","kind":"sched","dev":"","func":"schedule","msg":"start -> reader"}`, lines[0])
	assert.Equal(t, `{"seq":4,"task":"unplug","kind":"probe.result","dev":"/sys/devices/usb1/1-1","func":"call_driver_probe","msg":"ret=0; #1 <ok> \"x\""}`, lines[3])
	back, err := ReadJSON(&b)
	require.NoError(t, err)
	assert.Equal(t, sampleEvents(), back)
}

func TestMermaidTasksAreParticipantsAndSwitchesAreArrows(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, FormatMermaid, sampleEvents()))
	assert.Equal(t, `sequenceDiagram
    participant T0 as kernel
    participant T1 as reader
    participant T2 as unplug
    T0->>T1: 1 start -#62; reader
    Note over T1: 2 mutex_lock: io_mutex
    T1->>T2: 3 block usb_start_wait_urb urb 1 -#62; unplug
    Note over T2: 4 call_driver_probe /sys/devices/usb1/1-1: ret=0#59; #35;1 #60;ok#62; #34;x#34;
`, b.String())
}

func TestTextFormatIsEventString(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, FormatText, sampleEvents()))
	assert.Equal(t, Text(sampleEvents()), b.String())
}
