package drmsim

import "github.com/drvsim/drvsim/device"

// Minor is struct drm_minor: a device node of a drm device (only the
// primary node, /dev/dri/cardN, is modelled). Its index is reserved when
// the device is allocated (drm_minor_alloc), it becomes openable at
// drm_dev_register (drm_minor_register) and stops being openable at
// drm_dev_unregister (drm_minor_unregister); the index is given back only
// when the drm device is released (drm_minor_alloc_release, a drmm
// action).
type Minor struct {
	index      int
	name       string
	dev        *Device
	kdev       *device.Device // minor->kdev: card<index> of the drm class
	registered bool           // guarded by the Class's mu
}

// Index returns the minor's index (minor->index).
func (m *Minor) Index() int { return m.index }

// Name returns the node's name, "card<index>".
func (m *Minor) Name() string { return m.name }

// Device returns the drm device the minor belongs to (minor->dev).
func (m *Minor) Device() *Device { return m.dev }

// Kdev returns the minor's device (minor->kdev): "card<index>" of the drm
// class below the drm device's parent, with number DRM_MAJOR:index; it is
// added (and its /dev/dri node created) by drm_dev_register and deleted by
// drm_dev_unregister.
func (m *Minor) Kdev() *device.Device { return m.kdev }
