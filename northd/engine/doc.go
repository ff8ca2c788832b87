// Package engine owns northd's incremental computation: it holds the current
// NB snapshot and the southbound output derived from it, takes batches of NB
// row changes, recomputes only the datapaths that read a changed row (as
// translate.Index.Readers says) and reports the difference as row-level
// deltas for the writer. It also indexes the flows by content (FlowSets:
// which datapaths want each), so the writer can put a flow several
// datapaths share on one Logical_DP_Group, and names in each Delta the
// contents whose datapaths changed. Global outputs (SB_Global, Address_Set,
// Service_Monitor, BFD) are cheap and recomputed on every batch. Two
// southbound inputs, Service_Monitor status and IGMP_Group, arrive as
// changes of their own tables (translate.ServiceMonitorTable,
// translate.IGMPGroupTable) and recompute only the datapaths that read
// them, without rebuilding the index. A full recompute (translate.Translate) is the
// oracle: after any sequence of batches Engine.SB equals it.
//
// engine is pure: it does no I/O and must not import clients or sockets.
package engine
