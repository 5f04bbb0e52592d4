package zoo

func udlUnplugLate() *Bug     { return &Bug{Name: "udl-unplug-late", Pending: "wip"} }
func rpmSuppliersProbe() *Bug { return &Bug{Name: "rpm-suppliers-probe", Pending: "wip"} }
