package bus

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// uevent is kobject_uevent for a device: the action, then the variables
// dev_uevent adds (MAJOR=, MINOR= and DEVNAME= for a device with a number,
// DRIVER= when bound) and the bus's uevent variables.
func (c *Core) uevent(dev *device.Device, action string) {
	var b strings.Builder
	b.WriteString(action)
	if n := dev.Devt(); n != 0 {
		fmt.Fprintf(&b, " MAJOR=%d MINOR=%d DEVNAME=%s", n.Major(), n.Minor(), dev.DevNode())
	}
	if name := dev.DriverName(); name != "" {
		b.WriteString(" DRIVER=")
		b.WriteString(name)
	}
	if bus, ok := dev.Bus().(*Bus); ok && bus.Uevent != nil {
		for _, kv := range c.busUevent(bus, dev) {
			b.WriteByte(' ')
			b.WriteString(kv)
		}
	}
	c.emit(trace.Uevent, dev.Path(), "kobject_uevent", b.String())
}

// busUevent calls the bus's uevent callback; one that panics is an oops
// and adds no variables.
func (c *Core) busUevent(b *Bus, dev *device.Device) []string {
	defer c.recoverOops(nil, env.Watched{What: "uevent", Func: "dev_uevent", Dev: dev.Path()})
	return b.Uevent(dev)
}
