package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/drvsim/drvsim/device"
)

// shellSnapshot is what a user of the machine can see without the trace: the
// registered bus devices with their drivers (/sys/devices) and the device
// nodes (/dev); a class device (usbmisc/skel0, drm/card0) shows as its node. The shell takes one before and one after every command and
// prints the difference, so each step shows what it changed.
type shellSnapshot struct {
	devs  []shellDevState
	nodes []string
}

type shellDevState struct {
	dev              *device.Device
	name, bus, drive string
}

func (m *shellMachine) snapshot() shellSnapshot {
	var s shellSnapshot
	for _, d := range m.sys.Devices() {
		if d.Class() != nil {
			continue
		}
		s.devs = append(s.devs, shellDevState{dev: d, name: d.Name(), bus: d.BusName(), drive: d.DriverName()})
	}
	s.nodes = m.nodes()
	return s
}

func (d shellDevState) binding() string {
	if d.drive == "" {
		return "no driver"
	}
	return "driver=" + d.drive
}

// diff writes the changes from before to s, one per line: "-" for what
// went away (device nodes first, then devices, children before parents),
// then, in device-list order, "~" for a device whose driver changed and
// "+" for a device that appeared; last "+" for new device nodes.
func (s shellSnapshot) diff(before shellSnapshot, w io.Writer) {
	find := func(devs []shellDevState, d *device.Device) (shellDevState, bool) {
		i := slices.IndexFunc(devs, func(x shellDevState) bool { return x.dev == d })
		if i < 0 {
			return shellDevState{}, false
		}
		return devs[i], true
	}
	for _, n := range before.nodes {
		if !slices.Contains(s.nodes, n) {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	for i := len(before.devs) - 1; i >= 0; i-- {
		if _, ok := find(s.devs, before.devs[i].dev); !ok {
			fmt.Fprintf(w, "- %s\n", before.devs[i].name)
		}
	}
	for _, d := range s.devs {
		old, ok := find(before.devs, d.dev)
		switch {
		case !ok:
			fmt.Fprintf(w, "+ %s bus=%s %s\n", d.name, d.bus, d.binding())
		case old.drive != d.drive:
			fmt.Fprintf(w, "~ %s %s\n", d.name, d.binding())
		}
	}
	for _, n := range s.nodes {
		if !slices.Contains(before.nodes, n) {
			fmt.Fprintf(w, "+ %s\n", n)
		}
	}
}
