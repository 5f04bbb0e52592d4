package main

// The device tree the page draws, from two sources: a live machine's
// driver core and PM core (liveTree: what `drvsim serve` shows as it
// changes), and a trace (traceTree: the tree as the events of a run tell
// it, at any point of the run, for time travel). Both give a treeView;
// a test keeps them equal on the same machine.

import (
	"regexp"
	"slices"
	"strings"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/trace"
)

// treeView is /sys/devices as the page draws it: every registered device
// (parents before children, in registration order), the device links and
// the files open on device nodes.
type treeView struct {
	Devices []treeDevice `json:"devices"`
	Links   []treeLink   `json:"links"`
}

// treeDevice is one registered device.
type treeDevice struct {
	// Path is the sysfs path, the device's identity; Parent the path of
	// its parent, "" for a top-level device.
	Path   string `json:"path"`
	Parent string `json:"parent,omitempty"`
	Name   string `json:"name"`
	Bus    string `json:"bus,omitempty"`
	Class  string `json:"class,omitempty"`
	// Devt is MAJOR:MINOR, Node the /dev path devtmpfs made for it.
	Devt string `json:"devt,omitempty"`
	Node string `json:"node,omitempty"`
	// Driver is the driver bound (or probing, or unbinding); State the
	// device's lifecycle state (device.State's names).
	Driver   string `json:"driver,omitempty"`
	State    string `json:"state"`
	Override string `json:"override,omitempty"`
	// Files counts the open files of Node.
	Files int `json:"files,omitempty"`
	// USB says what a USB device is: "root hub", "hub", "device" or
	// "interface"; "" off the USB bus.
	USB string `json:"usb,omitempty"`
	// RPM is the device's runtime PM as the page shows it (rpmWord):
	// "unsupported" while its runtime PM is disabled, else its runtime
	// status ("active", "suspended", "resuming", "suspending").
	RPM string `json:"rpm"`
}

// rpmWord is what the page shows of a device's runtime PM: the words of
// power/runtime_status (rpm_status_show) that a trace tells exactly,
// "unsupported" while runtime PM is disabled, else the status. Not the
// usage count the text tree adds (rpm=active,usage=1), nor its "error"
// after a failed callback: the PM core changes both without an event
// at times (pm_runtime_put_noidle, a parent's count held during its
// child's resume, pm_runtime_set_active clearing the error), so the tree
// of time travel could not tell them, and the page shows the same in
// both trees. Enabling and disabling runtime PM, and every change of
// the status once it was first enabled, are events.
func rpmWord(enabled bool, status string) string {
	if !enabled {
		return "unsupported"
	}
	return status
}

// liveRPM is rpmWord of a live device, from its PM core (a device of a
// machine without one has runtime PM disabled, as pm_runtime_init
// leaves it).
func liveRPM(d *device.Device) string {
	s, ok := pm.StateOf(d)
	return rpmWord(ok && s.Enabled, s.Status.String())
}

// treeLink is a device link, consumer to supplier.
type treeLink struct {
	Consumer string `json:"consumer"`
	Supplier string `json:"supplier"`
	Flags    string `json:"flags,omitempty"`
}

// usbKind says what a USB device is, for the tree: nil-safe on a machine
// without a USB core.
type usbKind func(d *device.Device) string

// liveTree reads the tree of a live machine from its driver core: the
// registered devices in registration order (devices_kset, which device
// links reorder: parents are still listed before their children), their
// links, and files, the open-file count of each /dev path.
func liveTree(c *bus.Core, usb usbKind, files map[string]int) treeView {
	v := treeView{Devices: []treeDevice{}, Links: []treeLink{}}
	devs := c.Devices()
	registered := make(map[*device.Device]bool, len(devs))
	for _, d := range devs {
		registered[d] = true
	}
	nodes := map[*device.Device]string{}
	for _, n := range c.DevNodes() {
		nodes[n.Dev] = "/dev/" + n.Name
	}
	for _, d := range devs {
		td := treeDevice{Path: d.Path(), Name: d.Name(), Bus: d.BusName(), Class: d.ClassName(),
			Driver: d.DriverName(), State: d.State().String(), Override: d.DriverOverride(), Node: nodes[d], RPM: liveRPM(d)}
		if p := d.Parent(); p != nil && registered[p] {
			td.Parent = p.Path()
		}
		if n := d.Devt(); n != 0 {
			td.Devt = n.String()
		}
		td.Files = files[td.Node]
		if usb != nil {
			td.USB = usb(d)
		}
		v.Devices = append(v.Devices, td)
		for _, l := range d.Suppliers() {
			v.Links = append(v.Links, treeLink{Consumer: l.Consumer.Path(), Supplier: l.Supplier.Path(), Flags: l.Flags.String()})
		}
	}
	v.Devices = parentsFirst(v.Devices)
	return v
}

// parentsFirst orders devices so that each comes after its parent, and
// otherwise keeps their order (device links may list a consumer's child
// after a supplier registered later, never a child before its parent in
// sysfs; this makes the tree drawable in one pass either way).
func parentsFirst(devs []treeDevice) []treeDevice {
	out := make([]treeDevice, 0, len(devs))
	placed := map[string]bool{}
	kids := map[string][]treeDevice{}
	var place func(d treeDevice)
	place = func(d treeDevice) {
		out = append(out, d)
		placed[d.Path] = true
		for _, k := range kids[d.Path] {
			place(k)
		}
	}
	known := map[string]bool{}
	for _, d := range devs {
		known[d.Path] = true
	}
	for _, d := range devs {
		switch {
		case d.Parent == "" || !known[d.Parent]:
			place(d)
		case placed[d.Parent]:
			place(d)
		default:
			kids[d.Parent] = append(kids[d.Parent], d)
		}
	}
	return out
}

// traceTree rebuilds the tree from a trace: device_add and device_del,
// devtmpfs' nodes, really_probe, driver_bound and the unbinding
// (__device_release_driver, then BUS_NOTIFY_UNBOUND_DRIVER), device
// links, chrdev_open/__fput for the open files, and the PM core's
// runtime PM events. Feed it events in order with add; view returns the
// tree so far.
type traceTree struct {
	devs  map[string]*treeDevice
	order []string // registration order of the paths in devs
	links []treeLink
	files map[string]int // open files by /dev path
	// rpm is the runtime PM of the devices by path, registered or not:
	// a USB device's runtime PM is enabled before its device_add, and
	// device_del is recorded before the driver is released (with the
	// runtime PM calls around its remove) and runtime PM disabled for
	// good (pm_runtime_remove), which a device of the same path added
	// later starts from.
	rpm map[string]rpmTrace
}

// rpmTrace is a device's runtime PM as its events tell it. The zero
// value is pm_runtime_init's: disabled.
type rpmTrace struct {
	enabled bool
	status  string
}

func newTraceTree() *traceTree {
	return &traceTree{devs: map[string]*treeDevice{}, files: map[string]int{}, rpm: map[string]rpmTrace{}}
}

// addRPM applies a runtime PM event (kind rpm) of the device at e.Dev.
// A device's runtime PM records its events from the first time it is
// enabled ("runtime PM enabled ... status=S", which tells the status it
// was set to meanwhile) on: each change of the status
// (__update_runtime_status "old -> new") and each disable
// (pm_runtime_disable, pm_runtime_remove, the system sleep's
// __pm_runtime_disable: "runtime PM disabled ..."; "disable_depth N",
// always above zero, of a nested disable or of an enable that did not
// undo every disable).
func (t *traceTree) addRPM(e trace.Event) {
	r := t.rpm[e.Dev]
	switch {
	case e.Func == "__update_runtime_status":
		_, to, ok := strings.Cut(e.Msg, " -> ")
		if !ok {
			return
		}
		r.status = to
	case strings.HasPrefix(e.Msg, "runtime PM enabled "):
		r.enabled, r.status = true, msgField(e.Msg, "status")
	case strings.HasPrefix(e.Msg, "runtime PM disabled "):
		r.enabled, r.status = false, msgField(e.Msg, "status")
	case strings.HasPrefix(e.Msg, "disable_depth "):
		r.enabled = false
	default:
		return
	}
	t.rpm[e.Dev] = r
}

// msgField returns the value of key=VALUE in an event message of
// space-separated fields ("bus=usb driver=hub"); a value ends at a space
// or, for driver_bound's "driver=X: bound", at the colon.
func msgField(msg, key string) string {
	for _, f := range strings.Fields(msg) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strings.TrimSuffix(v, ":")
		}
	}
	return ""
}

// add applies one event to the tree.
func (t *traceTree) add(e trace.Event) {
	if e.Kind == pm.KindRuntime {
		t.addRPM(e)
		return
	}
	d := t.devs[e.Dev]
	switch {
	case e.Kind == trace.DeviceAdd && e.Func == "device_add":
		nd := &treeDevice{Path: e.Dev, Name: e.Dev[strings.LastIndexByte(e.Dev, '/')+1:],
			Bus: msgField(e.Msg, "bus"), Class: msgField(e.Msg, "class"), Devt: msgField(e.Msg, "dev"),
			State: device.StateAdded.String(), Parent: t.parentOf(e.Dev)}
		if t.devs[e.Dev] == nil {
			t.order = append(t.order, e.Dev)
		}
		t.devs[e.Dev] = nd
	case d == nil && e.Kind != chardev.Kind:
		// An event of a device no longer (or not yet) registered.
	case e.Kind == trace.DeviceAdd && e.Func == "devtmpfs_create_node":
		d.Node, _, _ = strings.Cut(e.Msg, " ")
	case e.Kind == trace.DeviceDel && e.Func == "devtmpfs_delete_node":
		d.Node = ""
	case e.Kind == trace.DeviceDel && e.Func == "device_del":
		delete(t.devs, e.Dev)
		t.order = slices.DeleteFunc(t.order, func(p string) bool { return p == e.Dev })
		t.links = slices.DeleteFunc(t.links, func(l treeLink) bool { return l.Consumer == e.Dev || l.Supplier == e.Dev })
	case e.Kind == trace.ProbeStart && e.Func == "really_probe":
		d.State, d.Driver = device.StateProbing.String(), msgField(e.Msg, "driver")
	case e.Kind == trace.ProbeResult && e.Func == "call_driver_probe" && msgField(e.Msg, "ret") != "0":
		d.State, d.Driver = device.StateAdded.String(), ""
	case e.Kind == trace.ProbeResult && e.Func == "driver_bound":
		d.State, d.Driver = device.StateBound.String(), msgField(e.Msg, "driver")
	case e.Kind == trace.Unbind && e.Func == "__device_release_driver":
		d.State = device.StateUnbinding.String()
	case e.Kind == trace.Notify && e.Msg == bus.NotifyUnboundDriver.String():
		d.State, d.Driver = device.StateAdded.String(), ""
	case e.Kind == trace.Link && e.Func == "device_link_add":
		t.links = append(t.links, treeLink{Consumer: e.Dev, Supplier: msgField(e.Msg, "supplier"), Flags: msgField(e.Msg, "flags")})
	case e.Kind == trace.Link:
		if sup := linkDropped(e); sup != "" {
			t.links = slices.DeleteFunc(t.links, func(l treeLink) bool { return l.Consumer == e.Dev && l.Supplier == sup })
		}
	}
	if e.Kind == chardev.Kind {
		node := devPath(e.Dev)
		switch {
		case e.Func == "chrdev_open" && e.Msg == "0":
			t.files[node]++
		case e.Func == "__fput" && t.files[node] > 0:
			t.files[node]--
		}
	}
}

// devPath is the /dev path of a node named as open(2) was given it:
// "/dev/skel0" or "skel0".
func devPath(p string) string { return "/dev/" + strings.TrimPrefix(p, "/dev/") }

// droppedRe matches the message of a link the core dropped.
var droppedRe = regexp.MustCompile(`^link to supplier (\S+) dropped$`)

// linkDropped returns the supplier of a link that event e deletes:
// device_link_del ("supplier=PATH") or a link dropped with its device.
func linkDropped(e trace.Event) string {
	if e.Func == "device_link_del" {
		return msgField(e.Msg, "supplier")
	}
	if m := droppedRe.FindStringSubmatch(e.Msg); m != nil {
		return m[1]
	}
	return ""
}

// parentOf returns the registered device whose path is the longest
// prefix of path (a class device's parent sits above its class
// directory: .../1-1:1.0/usbmisc/skel0 belongs to 1-1:1.0).
func (t *traceTree) parentOf(path string) string {
	for p := path; ; {
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			return ""
		}
		p = p[:i]
		if t.devs[p] != nil {
			return p
		}
	}
}

// view returns the tree so far.
func (t *traceTree) view() treeView {
	v := treeView{Devices: make([]treeDevice, 0, len(t.order)), Links: append([]treeLink{}, t.links...)}
	for _, p := range t.order {
		d := *t.devs[p]
		if d.Parent != "" && t.devs[d.Parent] == nil {
			d.Parent = ""
		}
		d.Files = t.files[d.Node]
		r := t.rpm[p]
		d.RPM = rpmWord(r.enabled, r.status)
		v.Devices = append(v.Devices, d)
	}
	v.Devices = parentsFirst(v.Devices)
	return v
}
