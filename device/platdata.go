package device

// WithPlatformData sets the device's platform data (dev->platform_data,
// as platform_device_add_data or a board file sets it): what the board
// tells a driver about this device beyond its name, such as its interrupt
// line or the hardware behind its register window. It belongs to the
// board, not to a driver: it stays as drivers bind and unbind.
func WithPlatformData(v any) Option { return func(d *Device) { d.platdata = v } }

// PlatformData returns the platform data the device was created with
// (dev_get_platdata), nil if none.
func (d *Device) PlatformData() any { return d.platdata }
