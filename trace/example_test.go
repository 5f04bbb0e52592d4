package trace_test

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/drvsim/drvsim/trace"
)

// unplugRace is a hand-built trace of a hot-unplug race under the
// deterministic scheduler: a reader task starts a transfer and blocks,
// the scheduler switches to the unplug task, which revokes the resource.
func unplugRace() []trace.Event {
	return []trace.Event{
		{Seq: 1, Kind: trace.Sched, Func: "schedule", Msg: "start -> reader"},
		{Seq: 2, Task: "reader", Kind: trace.Lock, Func: "mutex_lock", Msg: "io_mutex"},
		{Seq: 3, Task: "reader", Kind: trace.Sched, Func: "schedule", Msg: "block usb_start_wait_urb -> unplug"},
		{Seq: 4, Task: "unplug", Kind: trace.Revoke, Dev: "/sys/devices/usb1/1-1", Func: "revocable_provider_revoke", Msg: "start"},
	}
}

// WriteJSON writes one JSON object per line, every field always present,
// so that other tools (jq, a notebook) can read the trace; ReadJSON reads
// it back.
func ExampleWriteJSON() {
	var b strings.Builder
	if err := trace.WriteJSON(&b, unplugRace()); err != nil {
		panic(err)
	}
	fmt.Print(b.String())

	back, err := trace.ReadJSON(strings.NewReader(b.String()))
	fmt.Println("read back the same events:", err == nil && slices.Equal(back, unplugRace()))
	// Output:
	// {"seq":1,"task":"","kind":"sched","dev":"","func":"schedule","msg":"start -> reader"}
	// {"seq":2,"task":"reader","kind":"lock","dev":"","func":"mutex_lock","msg":"io_mutex"}
	// {"seq":3,"task":"reader","kind":"sched","dev":"","func":"schedule","msg":"block usb_start_wait_urb -> unplug"}
	// {"seq":4,"task":"unplug","kind":"revocable.revoke","dev":"/sys/devices/usb1/1-1","func":"revocable_provider_revoke","msg":"start"}
	// read back the same events: true
}

// WriteMermaid draws the same trace as a sequence diagram: each task is a
// participant, each context switch an arrow, every other event a note
// over the task that emitted it. Events outside any task (the first
// switch here) belong to the "kernel" participant.
func ExampleWriteMermaid() {
	if err := trace.WriteMermaid(os.Stdout, unplugRace()); err != nil {
		panic(err)
	}
	// Output:
	// sequenceDiagram
	//     participant T0 as kernel
	//     participant T1 as reader
	//     participant T2 as unplug
	//     T0->>T1: 1 start -#62; reader
	//     Note over T1: 2 mutex_lock: io_mutex
	//     T1->>T2: 3 block usb_start_wait_urb -#62; unplug
	//     Note over T2: 4 revocable_provider_revoke /sys/devices/usb1/1-1: start
}
