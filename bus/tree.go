package bus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/drvsim/drvsim/device"
)

// Tree renders a sysfs-like view of the core: the device hierarchy under
// /sys/devices (each device with its bus, class, number, driver, state
// and, on a machine with a PM core, its runtime PM status,
// children indented under their parent, in registration order), then each
// bus with its devices and its drivers' bound devices
// (/sys/bus/<bus>/drivers/<drv>), then the device links, then the
// fwnode links fw_devlink still holds (a consumer node waiting for a
// supplier node that has no device yet). A device made from a firmware
// node shows it (of_node=/soc/i2c@1000). The output is deterministic.
func (c *Core) Tree() string {
	c.mu.Lock()
	var roots []*devPriv
	all := c.devices.values()
	buses := append([]*Bus(nil), c.busOrder...)
	c.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	// The sysfs hierarchy follows dev->parent from kobject_add on, so a
	// child still probing (not yet on its parent's child list) is shown.
	kids := map[*device.Device][]*device.Device{}
	for _, p := range all {
		if par := p.dev.Parent(); par == nil || c.devPrivOf(par) == nil {
			roots = append(roots, p)
		} else {
			kids[par] = append(kids[par], p.dev)
		}
	}
	var b strings.Builder
	b.WriteString("/sys/devices\n")
	var walk func(d *device.Device, depth int)
	walk = func(d *device.Device, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth), strings.TrimPrefix(d.Path(), "/sys/devices/"))
		if bn := d.BusName(); bn != "" {
			fmt.Fprintf(&b, " bus=%s", bn)
		}
		if cn := d.ClassName(); cn != "" {
			fmt.Fprintf(&b, " class=%s", cn)
		}
		if n := d.Devt(); n != 0 {
			fmt.Fprintf(&b, " dev=%s", n)
		}
		if dn := d.DriverName(); dn != "" {
			fmt.Fprintf(&b, " driver=%s", dn)
		}
		if fw := d.Fwnode(); fw != nil {
			fmt.Fprintf(&b, " of_node=%s", fw)
		}
		fmt.Fprintf(&b, " state=%s", d.State())
		if h := c.powerHooks(); h != nil {
			fmt.Fprintf(&b, " rpm=%s", h.RuntimeStatus(d))
		}
		b.WriteByte('\n')
		for _, ch := range kids[d] {
			walk(ch, depth+1)
		}
	}
	for _, p := range roots {
		walk(p.dev, 1)
	}
	for _, bus := range buses {
		fmt.Fprintf(&b, "%s\n  devices:", bus.Path())
		for _, d := range c.BusDevices(bus.Name) {
			b.WriteString(" " + d.Name())
		}
		b.WriteByte('\n')
		for _, drv := range c.Drivers(bus.Name) {
			fmt.Fprintf(&b, "  drivers/%s:", drv.Name)
			for _, d := range c.BoundDevices(drv) {
				b.WriteString(" " + d.Name())
			}
			b.WriteByte('\n')
		}
	}
	first := true
	for _, p := range all {
		for _, l := range p.dev.Suppliers() {
			if first {
				b.WriteString("links\n")
				first = false
			}
			fmt.Fprintf(&b, "  %s -> %s flags=%s\n", l.Consumer.Name(), l.Supplier.Name(), l.Flags)
		}
	}
	c.fw.mu.Lock()
	fl := pendingFwnodeLinks(all)
	c.fw.mu.Unlock()
	if len(fl) > 0 {
		b.WriteString("fwnode links\n")
		for _, l := range fl {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	return b.String()
}

// pendingFwnodeLinks renders the fwnode links of the devices' nodes and
// their descendants, each once, in device then tree order. Called with
// fw.mu held.
func pendingFwnodeLinks(all []*devPriv) []string {
	var out []string
	seen := map[*device.Fwnode]bool{}
	var walk func(fw *device.Fwnode, depth int)
	walk = func(fw *device.Fwnode, depth int) {
		if seen[fw] || depth > maxFwDepth {
			return
		}
		seen[fw] = true
		for _, l := range fw.Suppliers() {
			line := l.Consumer.String() + " -> " + l.Supplier.String()
			if l.Flags&device.FwlinkCycle != 0 {
				line += " (cycle)"
			}
			out = append(out, line)
		}
		for _, ch := range fw.Ops().FwnodeChildren() {
			walk(ch, depth+1)
		}
	}
	for _, p := range all {
		if fw := p.dev.Fwnode(); fw != nil {
			walk(fw, 0)
		}
	}
	return out
}
