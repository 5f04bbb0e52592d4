package chardev

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Open is open(2) of path, "/dev/<name>", on h's machine: the path walk in
// the machine's /dev (the driver core's devtmpfs nodes; ErrNoEntry when
// there is no such node), then chrdev_open on the node's number (see
// OpenDevt). It is a schedule point.
func Open(h env.Host, path string) (*File, error) {
	e := env.Of(h)
	e.Yield(sched.Point{Kind: "chrdev_open", Obj: path})
	var node bus.DevNode
	ok := false
	if core := bus.CoreOf(e); core != nil && strings.HasPrefix(path, "/dev/") {
		node, ok = core.LookupDevNode(path)
	}
	if !ok {
		e.Log().Emit(trace.Event{Kind: Kind, Dev: path, Func: "do_filp_open", Msg: "-ENOENT"})
		return nil, fmt.Errorf("open %s: %w", path, ErrNoEntry)
	}
	return chrdevOpen(e, node.Devt, path)
}

// OpenDevt is open(2) of a character special file with number devt (a
// node made with mknod, named "/dev/char/<major>:<minor>" in traces) on
// h's machine: chrdev_open looks the number up in the cdev_map and takes
// a reference on the cdev (cdev_get); no cdev gives ErrNoDeviceOrAddress
// (-ENXIO). Then the cdev's Open runs (for a subsystem owning a whole
// major, its dispatcher: usb_open, drm_stub_open), whose error fails the
// open and drops the reference. It is a schedule point.
//
// The kernel caches the cdev in the inode at the first open, and an inode
// that survives cdev_del (a node made with mknod) reaches the old cdev as
// long as a file holds it; here every open looks the number up.
func OpenDevt(h env.Host, devt device.DevT) (*File, error) {
	e := env.Of(h)
	path := "/dev/char/" + devt.String()
	e.Yield(sched.Point{Kind: "chrdev_open", Obj: path})
	return chrdevOpen(e, devt, path)
}

// chrdevOpen is chrdev_open.
func chrdevOpen(e *env.Env, devt device.DevT, path string) (*File, error) {
	c := machineOf(e).lookup(devt)
	if c == nil {
		e.Log().Emit(trace.Event{Kind: Kind, Dev: path, Func: "chrdev_open", Msg: "-ENXIO"})
		return nil, fmt.Errorf("chrdev_open %s (%s): %w", path, devt, ErrNoDeviceOrAddress)
	}
	f := &File{e: e, path: path, devt: devt, cdev: c, ops: c.ops, refs: 1}
	if f.ops == nil {
		f.ops = &FileOperations{}
	}
	if open := f.ops.Open; open != nil {
		if err := open(f); err != nil {
			e.Log().Emit(trace.Event{Kind: Kind, Dev: path, Func: "chrdev_open", Msg: errno(err)})
			c.put("chrdev_open: cdev_put")
			return nil, err
		}
	}
	e.Log().Emit(trace.Event{Kind: Kind, Dev: path, Func: "chrdev_open", Msg: "0"})
	if e.Simulated() {
		f.opened = e.Origin(1)
		machineOf(e).track(f)
	}
	return f, nil
}
