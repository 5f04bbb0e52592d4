package drmsim

// Driver is struct drm_driver: the driver's identity (reported by
// DRM_IOCTL_VERSION) and its hooks into the DRM core. Only Name is
// required.
type Driver struct {
	// Name, Desc and the version numbers are what DRM_IOCTL_VERSION
	// reports (name, desc, major, minor, patchlevel).
	Name, Desc               string
	Major, Minor, Patchlevel int
	// Open is drm_driver.open, called by drm_open for every new file
	// (driver-private file state goes in File.DriverPriv). An error fails
	// the open.
	Open func(f *File) error
	// PostClose is drm_driver.postclose, called by drm_release while the
	// file is freed.
	PostClose func(f *File)
	// Release is drm_driver.release, called by drm_dev_release at the last
	// drm_dev_put, before the drmm actions run.
	Release func(d *Device)
	// Dirty is the framebuffer's dirty callback (drm_framebuffer_funcs
	// .dirty, reached through DRM_IOCTL_MODE_DIRTYFB): flush the damaged
	// region of the buffer object to the hardware. This is the callback
	// that touches hardware, so it is where a hot-unpluggable driver
	// brackets its accesses with Device.Enter and Device.Exit (or uses a
	// revocable handle). nil makes the ioctl fail with ErrNotSupported.
	Dirty func(f *File, bo *GEMObject, clip Rect) error
	// Ioctls are driver-specific ioctls (drm_driver.ioctls), looked up
	// after the core's.
	Ioctls []IoctlDesc
}
