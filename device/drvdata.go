package device

// SetDrvdata stores the driver's private data (dev_set_drvdata). The core
// clears it when the driver unbinds or its probe fails.
func (d *Device) SetDrvdata(v any) {
	d.mu.Lock()
	d.drvdata = v
	d.mu.Unlock()
}

// Drvdata returns the driver's private data (dev_get_drvdata).
func (d *Device) Drvdata() any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drvdata
}
