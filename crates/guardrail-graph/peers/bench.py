#!/usr/bin/env python3
"""The Python peers on the same files as `cargo bench --bench graph -- run`.

Usage: bench.py DIR NAME...   (prints lines in the same format as the Rust driver)
leidenalg: ModularityVertexPartition, default n_iterations (2), seed 0, on the
undirected graph with parallel edges collapsed (weights summed), as guardrail-graph
sees it. PPR: damping 0.85, uniform over the 100 seeds; networkx with tol 1e-6 (its
L1 criterion is N * tol) only up to 200,000 edges; igraph's PRPACK (exact).
"""
import sys
import time

import igraph as ig
import leidenalg


def main():
    directory = sys.argv[1]
    for name in sys.argv[2:]:
        path = f"{directory}/{name}.txt"
        started = time.perf_counter()
        edges = []
        with open(path) as handle:
            for line in handle:
                a, b = line.split()[:2]
                edges.append((int(a), int(b)))
        nodes = max(max(a, b) for a, b in edges) + 1
        directed = ig.Graph(n=nodes, edges=edges, directed=True)
        print(f"{name}\tigraph\tbuild\t{time.perf_counter() - started:.3f}s\tnodes={nodes} edges={len(edges)}", flush=True)
        with open(f"{directory}/seeds-{name}.txt") as handle:
            seeds = sorted({int(line) for line in handle if line.strip()})

        started = time.perf_counter()
        scores = directed.personalized_pagerank(damping=0.85, reset_vertices=seeds, directed=True)
        top = sorted(range(nodes), key=lambda v: -scores[v])[:1000]
        print(f"{name}\tigraph\tppr-prpack-top1000\t{time.perf_counter() - started:.3f}s\ttop={len(top)}", flush=True)

        if len(edges) <= 200_000:
            import networkx as nx

            graph = nx.DiGraph()
            graph.add_nodes_from(range(nodes))
            graph.add_edges_from(edges)
            personalization = {seed: 1.0 / len(seeds) for seed in seeds}
            started = time.perf_counter()
            nx.pagerank(graph, alpha=0.85, personalization=personalization, tol=1e-6)
            print(f"{name}\tnetworkx\tppr-power\t{time.perf_counter() - started:.3f}s\ttol=1e-6", flush=True)

        undirected = directed.copy()
        undirected.es["weight"] = [1.0] * undirected.ecount()
        undirected.to_undirected(mode="collapse", combine_edges="sum")
        undirected.simplify(multiple=True, loops=True, combine_edges="sum")
        started = time.perf_counter()
        partition = leidenalg.find_partition(undirected, leidenalg.ModularityVertexPartition, weights="weight", seed=0)
        elapsed = time.perf_counter() - started
        modularity = undirected.modularity(partition.membership, weights="weight")
        print(f"{name}\tleidenalg\tleiden\t{elapsed:.3f}s\tmodularity={modularity:.5f} communities={len(partition)}", flush=True)


if __name__ == "__main__":
    main()
