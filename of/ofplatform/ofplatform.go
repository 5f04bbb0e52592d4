// Package ofplatform makes platform devices from a machine's device tree,
// as drivers/of/platform.c does: Populate walks the tree at boot
// (of_platform_default_populate), a bus driver populates its own node's
// children (DevmPopulate), and, once populated, the tree's reconfiguration
// notifications make and destroy devices as overlays come and go
// (of_platform_notify): platform hot-plug. Drivers read their resources
// through it (platform_get_irq, platform_get_resource) and find the device
// of a node they were handed a phandle to (of_find_device_by_node).
package ofplatform

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/trace"
)

// DefaultBusMatches are of_default_bus_match_table: nodes compatible with
// one of them are buses whose children Populate makes devices for too.
var DefaultBusMatches = []string{"simple-bus", "simple-mfd", "isa", "arm,amba-bus"}

// machine is the package's per-machine state: the reconfiguration notifier
// registered on each tree (of_platform_register_reconfig_notifier).
type machine struct {
	mu       sync.Mutex
	notified map[*of.Tree]bool
}

type machineKey struct{}

func machineOf(e *env.Env) *machine {
	return e.Local(machineKey{}, func() any { return &machine{notified: map[*of.Tree]bool{}} }).(*machine)
}

// platformOf returns the machine's driver core and platform bus.
func platformOf(h env.Host) (*bus.Core, *bus.Bus, error) {
	c := bus.CoreOf(h)
	if c == nil {
		return nil, nil, fmt.Errorf("ofplatform: no driver core: %w", device.ErrNoDevice)
	}
	b := c.Bus(platform.Name)
	if b == nil {
		return nil, nil, fmt.Errorf("ofplatform: no platform bus: %w", device.ErrNoDevice)
	}
	return c, b, nil
}

// Populate is of_platform_default_populate at boot: a device for every
// available child of the root with a compatible, and for the children of
// those that are buses (DefaultBusMatches), recursively; with sync_state
// paused until the whole tree is added and the built-in simple-pm-bus
// driver (NewSimpleBusDriver) registered after it, as its initcall comes
// after the populate one: binding a bus's device before its children exist
// would hand their consumers to it (fw_devlink's dangling consumers).
// It also registers the reconfiguration notifier, so overlays applied from
// now on make and destroy devices. ErrNoDevice when the machine has no
// tree (of.Load).
func Populate(m bus.Machine) error {
	t := of.TreeOf(m)
	if t == nil {
		return fmt.Errorf("of_platform_default_populate: no device tree loaded: %w", device.ErrNoDevice)
	}
	c, _, err := platformOf(m)
	if err != nil {
		return err
	}
	registerNotifier(c, t)
	c.SyncStatePause()
	defer c.SyncStateResume()
	if err := PopulateNode(t.Root(), DefaultBusMatches, nil); err != nil {
		return err
	}
	return registerSimpleBus(c)
}

// PopulateNode is of_platform_populate(root, matches, NULL, parent): a
// device, child of parent (nil: the platform bus's root), for every child
// of root that has a compatible and is available, and recursively for the
// children of those compatible with one of matches; root is marked
// populated (OF_POPULATED_BUS). sync_state is paused meanwhile.
func PopulateNode(root *of.Node, matches []string, parent *device.Device) error {
	c, b, err := platformOf(root.Tree())
	if err != nil {
		return err
	}
	c.SyncStatePause()
	defer c.SyncStateResume()
	emit(root.Tree(), pathOf(parent), "of_platform_populate", root.Path())
	for _, child := range root.Children() {
		busCreate(c, b, child, matches, parent)
	}
	root.SetFlag(of.FlagPopulatedBus)
	return nil
}

func pathOf(d *device.Device) string {
	if d == nil {
		return ""
	}
	return d.Path()
}

func emit(h env.Host, dev, fn, msg string) {
	env.Of(h).Log().Emit(trace.Event{Kind: of.Kind, Dev: dev, Func: fn, Msg: msg})
}

// busCreate is of_platform_bus_create (strict): a node without compatible,
// an operating-points-v2 table, an AMBA primecell (not modelled) or a
// populated bus is skipped with its subtree; otherwise its device is made
// and, when it is a bus, its children's.
func busCreate(c *bus.Core, b *bus.Bus, np *of.Node, matches []string, parent *device.Device) {
	if np.Property("compatible") == nil || np.IsCompatible("operating-points-v2") ||
		np.CheckFlag(of.FlagPopulatedBus) || np.IsCompatible("arm,primecell") {
		return
	}
	dev, _ := deviceCreate(c, b, np, parent)
	if dev == nil || !compatibleWithAny(np, matches) {
		return
	}
	for _, child := range np.Children() {
		busCreate(c, b, child, matches, dev)
	}
	np.SetFlag(of.FlagPopulatedBus)
}

func compatibleWithAny(np *of.Node, matches []string) bool {
	for _, m := range matches {
		if np.IsCompatible(m) {
			return true
		}
	}
	return false
}

// DeviceCreate is of_platform_device_create: the platform device of an
// available node not populated yet, named by of_device_make_bus_id
// (of.Node.DeviceName), child of parent, holding a reference on the node
// until its release, and registered (device_add: fw_devlink links it, then
// it probes). It returns nil, nil for a node that is unavailable or
// already has its device, and the registration's error.
func DeviceCreate(np *of.Node, parent *device.Device) (*device.Device, error) {
	c, b, err := platformOf(np.Tree())
	if err != nil {
		return nil, err
	}
	return deviceCreate(c, b, np, parent)
}

func deviceCreate(c *bus.Core, b *bus.Bus, np *of.Node, parent *device.Device) (*device.Device, error) {
	if !np.Available() || np.TestAndSetFlag(of.FlagPopulated) {
		return nil, nil
	}
	np.Get() // of_device_alloc: dev->of_node = of_node_get(np)
	opts := []device.Option{device.WithFwnode(np.Fwnode()), device.WithRelease(func(*device.Device) { np.Put() })}
	if parent != nil {
		opts = append(opts, device.WithParent(parent))
	}
	dev := platform.NewDevice(b, np.DeviceName(), opts...)
	if err := c.InitializeDevice(dev); err != nil {
		np.Put()
		np.ClearFlag(of.FlagPopulated)
		return nil, err
	}
	emit(np.Tree(), dev.Path(), "of_platform_device_create", "of_node="+np.Path())
	if err := c.AddDevice(dev); err != nil {
		_ = dev.Put()
		np.ClearFlag(of.FlagPopulated)
		return nil, fmt.Errorf("of_platform_device_create %s: %w", np.Path(), err)
	}
	return dev, nil
}

// DeviceDestroy is of_platform_device_destroy: for a device made from a
// node, the devices of its children first when it is a populated bus (in
// order), then the node's flags cleared and the device unregistered
// (platform_device_unregister: its driver, and its consumers' before it,
// unbound by device_del). Other devices are left alone.
func DeviceDestroy(dev *device.Device) error {
	np := of.NodeOf(dev)
	if np == nil || !np.CheckFlag(of.FlagPopulated) {
		return nil
	}
	c, b, err := platformOf(dev)
	if err != nil {
		return err
	}
	if np.CheckFlag(of.FlagPopulatedBus) {
		for _, ch := range dev.Children() {
			if err := DeviceDestroy(ch); err != nil {
				return err
			}
		}
	}
	np.ClearFlag(of.FlagPopulated | of.FlagPopulatedBus)
	if dev.Bus() != device.Bus(b) {
		return nil
	}
	emit(dev, dev.Path(), "of_platform_device_destroy", "of_node="+np.Path())
	return c.UnregisterDevice(dev)
}

// Depopulate is of_platform_depopulate: when parent's node was populated,
// the devices made for its children are destroyed, last first.
func Depopulate(parent *device.Device) error {
	np := of.NodeOf(parent)
	if np == nil || !np.CheckFlag(of.FlagPopulatedBus) {
		return nil
	}
	kids := parent.Children()
	for i := len(kids) - 1; i >= 0; i-- {
		if err := DeviceDestroy(kids[i]); err != nil {
			return err
		}
	}
	np.ClearFlag(of.FlagPopulatedBus)
	return nil
}

// DevmPopulate is devm_of_platform_populate: what a bus driver (an
// I2C-like controller, an MFD) calls from probe to make devices for the
// children of its own node (PopulateNode with no bus matches, the devices
// children of dev), undone by Depopulate when dev unbinds.
func DevmPopulate(dev *device.Device) error {
	np := of.NodeOf(dev)
	if np == nil {
		return fmt.Errorf("devm_of_platform_populate %s: no device-tree node: %w", dev.Path(), device.ErrInvalid)
	}
	if err := PopulateNode(np, nil, dev); err != nil {
		return err
	}
	_, err := dev.Devres().AddOrReset("devm_of_platform_populate_release", func() { _ = Depopulate(dev) })
	return err
}

// FindDevice is of_find_device_by_node: the platform device made for the
// node, or nil.
func FindDevice(np *of.Node) *device.Device {
	if np == nil {
		return nil
	}
	d := np.Fwnode().Device()
	if d == nil || d.BusName() != platform.Name {
		return nil
	}
	return d
}

// GetIRQ is platform_get_irq for a device made from a device-tree node
// (of_irq_get): the Linux interrupt number of entry index of its
// interrupts. drvsim's interrupt domains are flat: the number is the
// specifier's first cell. Errors: ErrNoDeviceOrAddress when there is no
// such entry (or no node); ErrProbeDefer while the interrupt controller,
// a node with a compatible, has no bound device (its domain is not
// registered yet); ErrInvalid for a number outside 1..NrIRQs-1.
func GetIRQ(dev *device.Device, index int) (int, error) {
	np := of.NodeOf(dev)
	if np == nil {
		return 0, fmt.Errorf("platform_get_irq %s: no device-tree node: %w", dev.Path(), device.ErrNoDeviceOrAddress)
	}
	a, err := np.ParseIRQ(index)
	if err != nil {
		return 0, fmt.Errorf("platform_get_irq %s: IRQ index %d not found: %w (%w)", dev.Path(), index, device.ErrNoDeviceOrAddress, err)
	}
	if ic := a.Node; ic.Property("compatible") != nil {
		if !ProviderReady(ic.Fwnode().Device()) {
			return 0, fmt.Errorf("platform_get_irq %s: interrupt controller %s not ready: %w", dev.Path(), ic.Path(), device.ErrProbeDefer)
		}
	}
	if len(a.Args) == 0 || a.Args[0] == 0 || a.Args[0] >= kernel.NrIRQs {
		return 0, fmt.Errorf("platform_get_irq %s: interrupt %v out of range: %w", dev.Path(), a.Args, device.ErrInvalid)
	}
	return int(a.Args[0]), nil
}

// ProviderReady reports whether what a provider's driver registers in its
// probe (an interrupt domain, a gpiochip) is there: its driver is bound,
// or being unbound (the kernel's providers go in their remove, after their
// consumers are unbound).
func ProviderReady(d *device.Device) bool {
	if d == nil {
		return false
	}
	st := d.State()
	return st == device.StateBound || st == device.StateUnbinding
}

// GetResource is platform_get_resource(dev, IORESOURCE_MEM, index): the
// index-th translated reg range of the device's node. ErrNoDeviceOrAddress
// when there is none.
func GetResource(dev *device.Device, index int) (of.Resource, error) {
	np := of.NodeOf(dev)
	if np != nil {
		if rs := np.Resources(); index >= 0 && index < len(rs) {
			return rs[index], nil
		}
	}
	return of.Resource{}, fmt.Errorf("platform_get_resource %s: no memory resource %d: %w", dev.Path(), index, device.ErrNoDeviceOrAddress)
}
