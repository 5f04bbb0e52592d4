package bus

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Action is a bus notifier action (BUS_NOTIFY_*).
type Action int

// Bus notifier actions, in the order a device meets them.
const (
	// NotifyAddDevice is BUS_NOTIFY_ADD_DEVICE, sent by device_add.
	NotifyAddDevice Action = iota + 1
	// NotifyDelDevice is BUS_NOTIFY_DEL_DEVICE, sent at the start of
	// device_del.
	NotifyDelDevice
	// NotifyRemovedDevice is BUS_NOTIFY_REMOVED_DEVICE, sent at the end of
	// device_del.
	NotifyRemovedDevice
	// NotifyBindDriver is BUS_NOTIFY_BIND_DRIVER, sent by really_probe
	// (driver_sysfs_add) before the probe runs.
	NotifyBindDriver
	// NotifyBoundDriver is BUS_NOTIFY_BOUND_DRIVER, sent by driver_bound.
	NotifyBoundDriver
	// NotifyUnbindDriver is BUS_NOTIFY_UNBIND_DRIVER, sent by
	// __device_release_driver before remove.
	NotifyUnbindDriver
	// NotifyUnboundDriver is BUS_NOTIFY_UNBOUND_DRIVER, sent after the
	// driver is gone.
	NotifyUnboundDriver
	// NotifyDriverNotBound is BUS_NOTIFY_DRIVER_NOT_BOUND, sent by
	// really_probe when the probe failed.
	NotifyDriverNotBound
)

var actionNames = map[Action]string{
	NotifyAddDevice:      "BUS_NOTIFY_ADD_DEVICE",
	NotifyDelDevice:      "BUS_NOTIFY_DEL_DEVICE",
	NotifyRemovedDevice:  "BUS_NOTIFY_REMOVED_DEVICE",
	NotifyBindDriver:     "BUS_NOTIFY_BIND_DRIVER",
	NotifyBoundDriver:    "BUS_NOTIFY_BOUND_DRIVER",
	NotifyUnbindDriver:   "BUS_NOTIFY_UNBIND_DRIVER",
	NotifyUnboundDriver:  "BUS_NOTIFY_UNBOUND_DRIVER",
	NotifyDriverNotBound: "BUS_NOTIFY_DRIVER_NOT_BOUND",
}

// String returns the kernel's name, e.g. "BUS_NOTIFY_BOUND_DRIVER".
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("BUS_NOTIFY_%d", int(a))
}

// Notifier is a bus notifier callback (struct notifier_block.notifier_call).
// BIND_DRIVER, BOUND_DRIVER, DRIVER_NOT_BOUND, UNBIND_DRIVER and
// UNBOUND_DRIVER are sent with the device lock held, as in the kernel.
type Notifier func(action Action, dev *device.Device)

type notifier struct {
	id int
	fn Notifier
}

// RegisterNotifier is bus_register_notifier: fn is called for every action
// on the named bus from now on, after the notifiers registered before it.
// The returned function unregisters it (bus_unregister_notifier).
func (c *Core) RegisterNotifier(busName string, fn Notifier) (unregister func(), err error) {
	if fn == nil {
		return nil, fmt.Errorf("bus_register_notifier %q: nil notifier: %w", busName, device.ErrInvalid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buses[busName]
	if b == nil {
		return nil, fmt.Errorf("bus_register_notifier %q: no such bus: %w", busName, device.ErrNoEntry)
	}
	p := b.p
	p.nextNotif++
	id := p.nextNotif
	ns := make([]notifier, len(p.notifiers), len(p.notifiers)+1)
	copy(ns, p.notifiers)
	p.notifiers = append(ns, notifier{id: id, fn: fn})
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		out := make([]notifier, 0, len(p.notifiers))
		for _, n := range p.notifiers {
			if n.id != id {
				out = append(out, n)
			}
		}
		p.notifiers = out
	}, nil
}

// notify is bus_notify: one trace event, then every notifier in
// registration order, each a schedule point. A notifier that panics is an
// oops; the chain goes on with the next.
func (c *Core) notify(b *Bus, dev *device.Device, a Action) {
	c.log.Emit(trace.Event{Kind: trace.Notify, Dev: dev.Path(), Func: "bus_notify", Msg: a.String()})
	c.mu.Lock()
	ns := b.p.notifiers
	c.mu.Unlock()
	if len(ns) == 0 {
		return
	}
	s := c.env.Scheduler()
	w := env.Watched{What: "bus notifier " + a.String(), Func: "bus_notify", Dev: dev.Path(), Driver: dev.DriverName()}
	for _, n := range ns {
		if s != nil {
			s.Yield(sched.Point{Kind: "notify", Func: "bus_notify", Obj: a.String()})
		}
		c.callNotifier(w, n.fn, a, dev)
	}
}

// callNotifier calls one notifier; one that panics is an oops.
func (c *Core) callNotifier(w env.Watched, fn Notifier, a Action, dev *device.Device) {
	wt := c.env.Watch(w)
	defer wt.Done()
	defer c.recoverOops(nil, w)
	fn(a, dev)
}
