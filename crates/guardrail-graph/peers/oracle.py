#!/usr/bin/env python3
"""Reference oracle for guardrail-graph's differential tests.

Usage:
  oracle.py ppr EDGES SEEDS ALPHA TOL     -> "NODE SCORE" per node (networkx pagerank)
  oracle.py leiden EDGES N SEED           -> "modularity Q" (leidenalg on igraph, undirected)
EDGES: "SRC DST WEIGHT" per line, integer node ids 0..N-1.
"""
import sys


def read_edges(path):
    edges = []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if parts:
                edges.append((int(parts[0]), int(parts[1]), float(parts[2]) if len(parts) > 2 else 1.0))
    return edges


def ppr(edges_path, seeds_path, alpha, tol, nodes):
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(nodes))
    for a, b, w in read_edges(edges_path):
        if graph.has_edge(a, b):
            graph[a][b]["weight"] += w
        else:
            graph.add_edge(a, b, weight=w)
    with open(seeds_path) as handle:
        seeds = sorted({int(line) for line in handle if line.strip()})
    personalization = {node: 0.0 for node in range(nodes)}
    for seed in seeds:
        personalization[seed] = 1.0 / len(seeds)
    scores = nx.pagerank(graph, alpha=alpha, personalization=personalization, tol=tol, max_iter=100000, weight="weight")
    for node in range(nodes):
        print(node, repr(scores[node]))


def leiden(edges_path, nodes, seed):
    import igraph as ig
    import leidenalg

    edges = read_edges(edges_path)
    graph = ig.Graph(n=nodes, edges=[(a, b) for a, b, _ in edges], directed=False)
    graph.es["weight"] = [w for _, _, w in edges]
    partition = leidenalg.find_partition(
        graph, leidenalg.ModularityVertexPartition, weights="weight", n_iterations=-1, seed=seed
    )
    print("modularity", repr(graph.modularity(partition.membership, weights="weight")))


def main():
    command = sys.argv[1]
    if command == "ppr":
        ppr(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]))
    elif command == "leiden":
        leiden(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
