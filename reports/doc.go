// Package reports turns kalab results into what people and CI systems read: a
// self-contained index.html with inline plots, a summary.md fit for a CI job summary,
// a junit.xml, and PNG/SVG plots drawn with gonum/plot. It also draws the interval
// sweep plot used by kalab recommend and kalab sweep.
//
// Rendering is deterministic: the same results give byte-identical summary.md and
// junit.xml. Every file is written atomically (temp file + rename).
//
// It reads results (results.go) and never runs anything: it must never import
// sim/netlab, sim/mockwa, keepalive/wa or cmd.
package reports
