package drmsim

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
)

// DevmDevAlloc is devm_drm_dev_alloc: DevAlloc, with the caller's reference
// handed to the parent's devres list as the action
// "devm_drm_dev_init_release <cardN>" (drm_dev_put), so that it is dropped
// when the parent is unbound. The drm device itself lives on while open
// files hold references; it is released, and its drmm actions run, at the
// last put. When the devres entry cannot be added (fault injection) the
// reference is dropped at once (devm_add_action_or_reset) and the error,
// wrapping ErrNoMemory, is returned.
func DevmDevAlloc(c *Class, drv *Driver, parent *device.Device) (*Device, error) {
	d, err := DevAlloc(c, drv, parent)
	if err != nil {
		return nil, err
	}
	if _, err := parent.Devres().AddOrReset("devm_drm_dev_init_release "+d.primary.name, d.Put); err != nil {
		return nil, fmt.Errorf("devm_drm_dev_alloc %s: %w: %w", d.path, ErrNoMemory, err)
	}
	return d, nil
}
