// Package trace is drvsim's typed event trace: every step the simulated
// driver core takes (a device added, a probe started, a devres action
// released, a notifier called, a provider revoked, ...) is recorded as an
// Event with a sequence number, the sysfs-like path of the device it concerns
// and the name of the kernel function it models.
//
// The kernel has no single equivalent; the closest are its tracepoints
// (devres_log, the driver-core uevents) and the dev_dbg lines of
// drivers/base/dd.c. A trace is deterministic: the same scenario gives the
// same events, byte for byte, because nothing in an Event comes from map
// order or the wall clock.
package trace

import (
	"fmt"
	"strings"
)

// Kind classifies an event. Kinds are strings so that traces printed as text
// or JSON are stable and readable; packages higher up (usbsim, drmsim) add
// their own Kind constants.
type Kind string

// Event kinds of the driver core, devres and revocable.
const (
	DeviceInit    Kind = "device.init"     // device_initialize
	DeviceAdd     Kind = "device.add"      // device_add
	DeviceDel     Kind = "device.del"      // device_del
	DeviceRelease Kind = "device.release"  // the release callback at the last put_device
	DeviceRef     Kind = "device.ref"      // get_device / put_device
	DriverAdd     Kind = "driver.register" // driver_register
	DriverDel     Kind = "driver.unregister"
	BusAdd        Kind = "bus.register" // bus_register
	ProbeStart    Kind = "probe.start"  // really_probe entered
	ProbeResult   Kind = "probe.result" // really_probe's outcome
	ProbeDefer    Kind = "probe.defer"  // deferred-probe list movement
	ProbeAsync    Kind = "probe.async"  // async probe scheduled or run (async_schedule_dev)
	Unbind        Kind = "unbind"       // __device_release_driver steps
	Remove        Kind = "remove"       // device_remove: the bus or driver remove
	Shutdown      Kind = "shutdown"     // device_shutdown
	Notify        Kind = "notify"       // bus notifier chain
	Uevent        Kind = "uevent"       // kobject_uevent
	Link          Kind = "link"         // device links
	DevresAdd     Kind = "devres.add"   // devm_add_action and friends
	DevresRelease Kind = "devres.release"
	DevresGroup   Kind = "devres.group"
	Revoke        Kind = "revocable.revoke" // revocable_provider_revoke
	Revocable     Kind = "revocable"        // other provider/consumer lifecycle steps
	SRCU          Kind = "srcu"             // grace periods
	Lock          Kind = "lock"             // device_lock / device_unlock
	Warn          Kind = "warn"             // misuse the kernel would WARN on
	Oops          Kind = "oops"             // a callback panicked (the kernel's Oops / BUG)
	Sched         Kind = "sched"            // schedule points of a controlled run
	Fault         Kind = "fault"            // an injected fault fired
	Note          Kind = "note"             // free text a test or demo adds
)

// Event is one step of a simulated system.
type Event struct {
	// Seq numbers events from 1 in the order they were recorded.
	Seq uint64
	// Task names the simulated task that emitted the event; empty outside a
	// controlled (deterministic) run.
	Task string
	// Kind classifies the event.
	Kind Kind
	// Dev is the sysfs-like path of the device concerned, if any
	// (for example "/sys/devices/platform/serial0").
	Dev string
	// Func is the kernel function this step models, e.g. "really_probe".
	Func string
	// Msg is a short human-readable description, e.g. "driver=uart ret=0".
	Msg string
}

// String renders the event as one line of text. The format is stable:
//
//	7 really_probe /sys/devices/platform/foo: probe driver=bar
//
// Every field goes through Escape, so that an event is always one line,
// whatever bytes a driver or a user put in a name or a message.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4d ", e.Seq)
	if e.Task != "" {
		b.WriteByte('[')
		b.WriteString(Escape(e.Task))
		b.WriteString("] ")
	}
	e.body(&b, Escape)
	return b.String()
}

// body writes "func dev: msg", each field through esc.
func (e Event) body(b *strings.Builder, esc func(string) string) {
	b.WriteString(esc(e.Func))
	if e.Dev != "" {
		b.WriteByte(' ')
		b.WriteString(esc(e.Dev))
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(esc(e.Msg))
	}
}

// Short renders the event without its sequence number and task, the form
// tests use to assert on an exact order: "really_probe /sys/...: msg". Its
// fields are escaped as String's are.
func (e Event) Short() string {
	var b strings.Builder
	e.body(&b, Escape)
	return b.String()
}
