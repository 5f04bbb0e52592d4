package driver

import (
	"errors"

	"github.com/drvsim/drvsim/device"
)

// Probe results and core errors, re-exported from package device so that a
// driver can return driver.ErrProbeDefer; they are the same values.
var (
	ErrProbeDefer        = device.ErrProbeDefer        // -EPROBE_DEFER
	ErrNoDevice          = device.ErrNoDevice          // -ENODEV
	ErrNoEntry           = device.ErrNoEntry           // -ENOENT
	ErrNoDeviceOrAddress = device.ErrNoDeviceOrAddress // -ENXIO
	ErrBusy              = device.ErrBusy              // -EBUSY
	ErrInvalid           = device.ErrInvalid           // -EINVAL
	ErrExist             = device.ErrExist             // -EEXIST
	ErrTimedOut          = device.ErrTimedOut          // -ETIMEDOUT
	ErrDeadlock          = device.ErrDeadlock          // -EDEADLK
	ErrIO                = device.ErrIO                // -EIO
	ErrNameTooLong       = device.ErrNameTooLong       // -ENAMETOOLONG
)

// IsQuiet reports whether a probe result means "not my device", which the
// kernel logs only at debug level (call_driver_probe): -ENODEV and -ENXIO.
// Any other error, -ENOENT included, is a probe failure.
func IsQuiet(err error) bool {
	return errors.Is(err, ErrNoDevice) || errors.Is(err, ErrNoDeviceOrAddress)
}
