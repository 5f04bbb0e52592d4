// Package scenario holds the udl driver's lifecycle scenarios: Rig, one
// simulated machine with the udl driver registered (a System, the USB core
// with a host controller, a DRM class); FlushVsUnplug, a flush racing the
// adapter's unplug, declared by Scenarios as the drm-udl-classic,
// drm-udl-revocable and drm-udl-broken scenarios package scenarios
// registers; and UnplugDemo, the narrated demo of `drvsim demo
// drm-unplug`. It is apart from package udlsim so that the driver model
// does not import the simulator.
package scenario
