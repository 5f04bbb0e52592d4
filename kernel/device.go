package kernel

import (
	"reflect"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
)

// Device is what the library's device-bound calls take as their struct
// device *: the devm_* functions register their release on its devres
// list, and dev_printk names it by its path. *device.Device implements
// it; the library does not import package device.
type Device interface {
	env.Host
	// Devres returns the device's managed-resource list.
	Devres() *devres.List
	// Path returns the device's sysfs path, e.g.
	// "/sys/devices/platform/sensor0".
	Path() string
}

// isNil reports whether dev is nil or holds a nil pointer.
func isNil(dev any) bool {
	if dev == nil {
		return true
	}
	r := reflect.ValueOf(dev)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
