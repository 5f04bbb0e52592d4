package ofplatform

import (
	"fmt"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/of"
)

// registerNotifier is of_platform_register_reconfig_notifier, once per
// tree.
func registerNotifier(c *bus.Core, t *of.Tree) {
	m := machineOf(c.Env())
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.notified[t] {
		return
	}
	m.notified[t] = true
	t.RegisterReconfigNotifier(notify)
}

// notify is of_platform_notify: a node that becomes available under the
// root or a populated bus gets its device (and only it: a bus's children
// are its driver's business); a node that goes away loses its device.
func notify(action of.ReconfigAction, rd of.ReconfigData) error {
	np := rd.Node
	switch of.ReconfigGetStateChange(action, rd) {
	case of.ChangeAdd:
		parent := np.Parent()
		if parent == nil || (parent.Parent() != nil && !parent.CheckFlag(of.FlagPopulatedBus)) {
			return nil // not for us
		}
		if np.CheckFlag(of.FlagPopulated) {
			return nil // populated already (a driver's own of_platform_populate)
		}
		// Before the device is added, so that fw_devlink links its
		// consumers to it.
		np.Fwnode().Core().ClearFlags(device.FwnodeNotDevice)
		dev, err := DeviceCreate(np, FindDevice(parent))
		if dev == nil {
			return fmt.Errorf("of_platform_notify: failed to create for '%s': %w (%v)", np.Path(), device.ErrInvalid, err)
		}
	case of.ChangeRemove:
		if !np.CheckFlag(of.FlagPopulated) {
			return nil
		}
		if dev := FindDevice(np); dev != nil {
			return DeviceDestroy(dev)
		}
	}
	return nil
}
