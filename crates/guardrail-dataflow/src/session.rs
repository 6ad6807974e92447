//! A running dataflow map: timely workers on threads of this process (and peers in other
//! processes), fed batches of updates, answering with what changed.
//!
//! How a round goes: the caller's batch becomes input records (an attribute or text change
//! retracts the previous row, which the session remembers); every local worker gets the
//! whole batch and feeds the records whose position is its own modulo the worker count, so
//! processes given the same batches feed each record exactly once; all inputs advance to
//! the next round; worker 0 of process 0 collects every output change (they are exchanged
//! to it) and, once its probe shows the round complete, hands them to the session, which
//! keeps the current outputs and reports the accounts whose score changed.
//!
//! What it must never do: block a process that is not the driver waiting for results (only
//! process 0 gets them), or accept an edge whose ends are not accounts (the walk would
//! carry mass to nodes the map cannot score).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use guardrail_graph::features::{AccountAttributes, MapInput, TextSignal, TextSignals};
use guardrail_graph::leiden::leiden;
use guardrail_graph::map::{CONFIDENT_SCORE, MapConfig, NetworkMap};
use guardrail_graph::{EdgeKind, NodeId};
use guardrail_types::NetworkRole;
use timely::communication::WorkerGuards;
use timely::dataflow::ProbeHandle;
use timely::dataflow::operators::{Exchange, Inspect, Probe};

use crate::assemble::{AccountScore, assemble};
use crate::cluster::ClusterConfig;
use crate::error::DataflowError;
use crate::flow::{FlowParameters, Inputs, build};
use crate::ppr::{PprParameters, round_time};
use crate::records::{Attributes, Output, TextRow, kind_code, role_of_code};

/// Parameters of the dataflow map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataflowConfig {
    /// The single-node map's parameters (damping, epsilon, Leiden, budget).
    pub map: MapConfig,
    /// Quanta in PPR probability 1 (2^50: rounding stays far below the push tolerance
    /// `map.epsilon`, which sets the accuracy).
    pub quantum: i64,
    /// Cap on push steps per round (a guard; the walk settles in a few dozen).
    pub max_steps: u64,
    /// Rounds of label propagation from the Leiden start.
    pub label_rounds: usize,
    /// Export every account's features (tests and audits; heavy at scale).
    pub export_rows: bool,
    /// Export every account's PPR mass (tests and audits; heavy at scale).
    pub export_mass: bool,
}

impl Default for DataflowConfig {
    fn default() -> DataflowConfig {
        DataflowConfig::from(MapConfig::default())
    }
}

impl From<MapConfig> for DataflowConfig {
    fn from(map: MapConfig) -> DataflowConfig {
        DataflowConfig {
            map,
            quantum: 1 << 50,
            max_steps: 100_000,
            label_rounds: 2,
            export_rows: false,
            export_mass: false,
        }
    }
}

impl DataflowConfig {
    fn flow_parameters(&self) -> FlowParameters {
        FlowParameters {
            ppr: PprParameters {
                damping: self.map.damping,
                epsilon: self.map.epsilon,
                quantum: self.quantum,
                max_steps: self.max_steps,
            },
            label_rounds: self.label_rounds,
            export_rows: self.export_rows,
            export_mass: self.export_mass,
        }
    }
}

/// One change to the map's inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// An edge event: `weight` is +1 for a follow or an engagement, −1 for an unfollow or
    /// a retracted engagement (an edge is present while its total is positive).
    Edge {
        /// Who acts.
        source: NodeId,
        /// On whom.
        target: NodeId,
        /// What kind of edge.
        kind: EdgeKind,
        /// Weight change.
        weight: i64,
    },
    /// A new account, or new attributes for a known one.
    Account {
        /// The account.
        node: NodeId,
        /// What the platform now knows about it.
        attributes: AccountAttributes,
    },
    /// New text-guard verdicts for an account (a blocked bio or hashtag makes it a seed).
    Text {
        /// The account.
        node: NodeId,
        /// The verdicts.
        signal: TextSignal,
    },
    /// A reviewer confirms (`true`) or clears (`false`) an account as a seed.
    ReviewSeed {
        /// The account.
        node: NodeId,
        /// Confirmed or cleared.
        confirmed: bool,
    },
}

/// An input record as fed to the dataflow.
#[derive(Debug, Clone)]
enum Record {
    Edge((NodeId, NodeId, u8), isize),
    Account((NodeId, Attributes), isize),
    Text((NodeId, TextRow), isize),
    ReviewSeed(NodeId, isize),
}

fn feed(inputs: &mut Inputs, record: &Record) {
    match record {
        Record::Edge(edge, weight) => inputs.edges.update(*edge, *weight),
        Record::Account(row, diff) => inputs.accounts.update(*row, *diff),
        Record::Text(row, diff) => inputs.text.update(row.clone(), *diff),
        Record::ReviewSeed(node, diff) => inputs.review_seeds.update(*node, *diff),
    }
}

/// What every process loads at the start: the input, read in place by each worker.
#[derive(Debug)]
struct InitialLoad {
    input: MapInput,
    text: Vec<(NodeId, TextRow)>,
    labels: Vec<u32>,
}

impl InitialLoad {
    /// Feeds worker `index` of `peers` its share: the accounts (with their out-edges)
    /// whose id is `index` modulo `peers`.
    fn feed(&self, inputs: &mut Inputs, index: usize, peers: usize) {
        let graph = &self.input.graph;
        for node in (index..graph.node_count()).step_by(peers) {
            let id = node as NodeId;
            let attributes = self.input.accounts.get(node).copied().unwrap_or_default();
            inputs.accounts.update((id, attributes.into()), 1);
            if let Some(&label) = self.labels.get(node) {
                inputs.labels.update((id, label), 1);
            }
            for edge in graph.out_edges(id) {
                // Weights were checked whole and positive when the session started.
                inputs
                    .edges
                    .update((id, edge.node, kind_code(edge.kind)), edge.weight as isize);
            }
        }
        for (position, (node, row)) in self.text.iter().enumerate() {
            if position % peers == index {
                inputs.text.update((*node, row.clone()), 1);
            }
        }
        for (position, seed) in self.input.seeds.iter().enumerate() {
            if position % peers == index {
                inputs.review_seeds.update(*seed, 1);
            }
        }
    }
}

type Changes = Vec<(Output, isize)>;

/// A change in one account's score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreChange {
    /// The account.
    pub node: NodeId,
    /// Its score before the batch (`None`: no positive score).
    pub before: Option<AccountScore>,
    /// Its score after the batch.
    pub after: Option<AccountScore>,
}

/// A running dataflow map.
pub struct MapSession {
    commands: Vec<Sender<Arc<Vec<Record>>>>,
    results: Option<Receiver<Changes>>,
    guards: Option<WorkerGuards<()>>,
    round: u64,
    config: DataflowConfig,
    accounts: Vec<Option<Attributes>>,
    text: HashMap<NodeId, TextRow>,
    review_seeds: HashSet<NodeId>,
    external_ids: Vec<String>,
    outputs: HashMap<Output, isize>,
}

impl std::fmt::Debug for MapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapSession")
            .field("round", &self.round)
            .field("accounts", &self.accounts.len())
            .field("outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

/// Checks that every edge weight is a whole positive number (one per event).
fn check_weights(input: &MapInput) -> Result<(), DataflowError> {
    let graph = &input.graph;
    for source in 0..graph.node_count() as NodeId {
        for edge in graph.out_edges(source) {
            let weight = f64::from(edge.weight);
            if !(weight >= 1.0 && weight.fract() == 0.0 && weight < f64::from(1u32 << 30)) {
                return Err(DataflowError::FractionalWeight {
                    source_node: source,
                    target_node: edge.node,
                    weight,
                });
            }
        }
    }
    Ok(())
}

impl MapSession {
    /// Starts the dataflow on `cluster` and loads `input`: its accounts and edges, the
    /// text verdicts of `text` (blocked bios and hashtags are seeds), `input.seeds` as
    /// review seeds, and the communities of a single-node Leiden run as the starting
    /// labels. Every process of the cluster must call this with the same input.
    pub fn start(
        input: &MapInput,
        text: &dyn TextSignals,
        config: &DataflowConfig,
        cluster: &ClusterConfig,
    ) -> Result<MapSession, DataflowError> {
        let labels = leiden(&input.graph, &config.map.leiden)?.membership;
        MapSession::start_with_labels(input, text, config, cluster, labels)
    }

    /// As [`MapSession::start`], with the starting community labels given (one per
    /// account; accounts beyond them start alone): the partition of the last Leiden run.
    pub fn start_with_labels(
        input: &MapInput,
        text: &dyn TextSignals,
        config: &DataflowConfig,
        cluster: &ClusterConfig,
        labels: Vec<u32>,
    ) -> Result<MapSession, DataflowError> {
        let node_count = input.graph.node_count();
        if input.accounts.len() != node_count {
            return Err(DataflowError::AttributeCount {
                attributes: input.accounts.len(),
                nodes: node_count,
            });
        }
        check_weights(input)?;
        let timely_config = cluster.timely_config()?;
        let text_rows: Vec<(NodeId, TextRow)> = (0..node_count as NodeId)
            .map(|node| (node, TextRow::from(&text.signals(node))))
            .filter(|(_, row)| !row.is_empty())
            .collect();
        // Shared by this process's workers while they feed it; the last to take its share
        // empties the slot, so once fed the dataflow's state is the only copy of the graph.
        let load = Mutex::new((
            Some(Arc::new(InitialLoad {
                input: input.clone(),
                text: text_rows.clone(),
                labels,
            })),
            cluster.workers,
        ));
        let mut commands = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..cluster.workers {
            let (sender, receiver) = channel::<Arc<Vec<Record>>>();
            commands.push(sender);
            receivers.push(Mutex::new(Some(receiver)));
        }
        let receivers = Arc::new(receivers);
        let (result_sender, results) = channel::<Changes>();
        let result_sender = Mutex::new(result_sender);
        let parameters = config.flow_parameters();
        let workers = cluster.workers;
        let guards = timely::execute(timely_config, move |worker| {
            let index = worker.index();
            let peers = worker.peers();
            let sender = result_sender.lock().map(|s| s.clone()).ok();
            let receiver = receivers
                .get(index % workers)
                .and_then(|slot| slot.lock().ok().and_then(|mut slot| slot.take()));
            let mut inputs = Inputs::new();
            let probe = ProbeHandle::new();
            let buffer: Rc<RefCell<Changes>> = Rc::new(RefCell::new(Vec::new()));
            let sink = buffer.clone();
            worker.dataflow::<u64, _, _>(|scope| {
                build(scope, &mut inputs, parameters)
                    .inner
                    .exchange(|_| 0)
                    .inspect(move |(output, _, diff)| {
                        sink.borrow_mut().push((output.clone(), *diff))
                    })
                    .probe_with(&probe);
            });
            let share = load.lock().ok().and_then(|mut slot| {
                let share = slot.0.clone();
                slot.1 = slot.1.saturating_sub(1);
                if slot.1 == 0 {
                    slot.0 = None;
                }
                share
            });
            if let Some(share) = share {
                share.feed(&mut inputs, index, peers);
            }
            // Round `r` is fed at logical time `round_time(r - 1)` and complete when the
            // probe passes `round_time(r)` (the walk's push steps run in between).
            let mut round = 1u64;
            inputs.advance_to(round_time(round));
            worker.step_while(|| probe.less_than(&round_time(round)));
            if index == 0
                && let Some(sender) = &sender
            {
                let _ = sender.send(buffer.take());
            }
            let Some(receiver) = receiver else {
                return;
            };
            while let Ok(batch) = receiver.recv() {
                for (position, record) in batch.iter().enumerate() {
                    if position % peers == index {
                        feed(&mut inputs, record);
                    }
                }
                round += 1;
                inputs.advance_to(round_time(round));
                worker.step_while(|| probe.less_than(&round_time(round)));
                if index == 0
                    && let Some(sender) = &sender
                {
                    let _ = sender.send(buffer.take());
                }
            }
        })
        .map_err(DataflowError::Start)?;
        let mut session = MapSession {
            commands,
            results: cluster.is_driver().then_some(results),
            guards: Some(guards),
            round: 1,
            config: *config,
            accounts: input
                .accounts
                .iter()
                .map(|&a| Some(Attributes::from(a)))
                .collect(),
            text: text_rows.into_iter().collect(),
            review_seeds: input.seeds.iter().copied().collect(),
            external_ids: (0..node_count as NodeId)
                .map(|node| input.graph.external_id(node).to_string())
                .collect(),
            outputs: HashMap::new(),
        };
        session.collect()?;
        Ok(session)
    }

    /// Whether this process holds the results (process 0).
    pub fn is_driver(&self) -> bool {
        self.results.is_some()
    }

    /// The rounds fed so far (the initial load is round 1).
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Receives one round's output changes (driver only) and applies them.
    fn collect(&mut self) -> Result<Changes, DataflowError> {
        let Some(results) = &self.results else {
            return Ok(Vec::new());
        };
        let changes = results
            .recv()
            .map_err(|_| DataflowError::WorkerStopped { round: self.round })?;
        for (output, diff) in &changes {
            let entry = self.outputs.entry(output.clone()).or_insert(0);
            *entry += diff;
            if *entry == 0 {
                self.outputs.remove(output);
            }
        }
        Ok(changes)
    }

    fn records(&mut self, batch: &[Update]) -> Result<Vec<Record>, DataflowError> {
        let mut records = Vec::with_capacity(batch.len());
        for (index, update) in batch.iter().enumerate() {
            let known = |accounts: &Vec<Option<Attributes>>, node: NodeId| {
                accounts.get(node as usize).is_some_and(Option::is_some)
            };
            match update {
                Update::Edge {
                    source,
                    target,
                    kind,
                    weight,
                } => {
                    for node in [*source, *target] {
                        if !known(&self.accounts, node) {
                            return Err(DataflowError::UnknownAccount { index, node });
                        }
                    }
                    records.push(Record::Edge(
                        (*source, *target, kind_code(*kind)),
                        *weight as isize,
                    ));
                }
                Update::Account { node, attributes } => {
                    let slot = *node as usize;
                    if self.accounts.len() <= slot {
                        self.accounts.resize(slot + 1, None);
                    }
                    if let Some(previous) = self.accounts[slot] {
                        records.push(Record::Account((*node, previous), -1));
                    }
                    let attributes = Attributes::from(*attributes);
                    self.accounts[slot] = Some(attributes);
                    records.push(Record::Account((*node, attributes), 1));
                }
                Update::Text { node, signal } => {
                    if !known(&self.accounts, *node) {
                        return Err(DataflowError::UnknownAccount { index, node: *node });
                    }
                    if let Some(previous) = self.text.remove(node) {
                        records.push(Record::Text((*node, previous), -1));
                    }
                    let row = TextRow::from(signal);
                    if !row.is_empty() {
                        self.text.insert(*node, row.clone());
                        records.push(Record::Text((*node, row), 1));
                    }
                }
                Update::ReviewSeed { node, confirmed } => {
                    if !known(&self.accounts, *node) {
                        return Err(DataflowError::UnknownAccount { index, node: *node });
                    }
                    let changed = if *confirmed {
                        self.review_seeds.insert(*node)
                    } else {
                        self.review_seeds.remove(node)
                    };
                    if changed {
                        records.push(Record::ReviewSeed(*node, if *confirmed { 1 } else { -1 }));
                    }
                }
            }
        }
        Ok(records)
    }

    /// Applies a batch and returns the accounts whose score, tie, role or community
    /// changed (empty on processes other than the driver).
    pub fn apply(&mut self, batch: &[Update]) -> Result<Vec<ScoreChange>, DataflowError> {
        let records = Arc::new(self.records(batch)?);
        self.round += 1;
        for command in &self.commands {
            command
                .send(records.clone())
                .map_err(|_| DataflowError::WorkerStopped { round: self.round })?;
        }
        let changes = self.collect()?;
        let mut by_node: HashMap<NodeId, ScoreChange> = HashMap::new();
        for (output, diff) in changes {
            if let Output::Score(node, record) = output {
                let entry = by_node.entry(node).or_insert(ScoreChange {
                    node,
                    before: None,
                    after: None,
                });
                let score = AccountScore::new(node, &record);
                if diff > 0 {
                    entry.after = Some(score);
                } else {
                    entry.before = Some(score);
                }
            }
        }
        let mut changes: Vec<ScoreChange> = by_node.into_values().collect();
        changes.sort_by_key(|change| change.node);
        Ok(changes)
    }

    /// The current outputs with their multiplicities (driver only; empty elsewhere).
    pub fn outputs(&self) -> &HashMap<Output, isize> {
        &self.outputs
    }

    /// Every account with a positive score, by account.
    pub fn scores(&self) -> Vec<AccountScore> {
        let mut scores: Vec<AccountScore> = self
            .outputs
            .keys()
            .filter_map(|output| match output {
                Output::Score(node, record) => Some(AccountScore::new(*node, record)),
                _ => None,
            })
            .collect();
        scores.sort_by_key(|score| score.node);
        scores
    }

    /// The map as `build_map` shapes it, listing `config.map.budget` suspects (driver
    /// only: `None` on other processes).
    pub fn map(&self) -> Result<Option<NetworkMap>, DataflowError> {
        if !self.is_driver() {
            return Ok(None);
        }
        assemble(&self.outputs, &self.external_ids, self.config.map.budget).map(Some)
    }

    /// Stops the workers (waiting for peers to finish their rounds).
    pub fn finish(mut self) {
        self.commands.clear();
        if let Some(guards) = self.guards.take() {
            drop(guards.join());
        }
    }
}

impl Drop for MapSession {
    fn drop(&mut self) {
        self.commands.clear();
        if let Some(guards) = self.guards.take() {
            drop(guards.join());
        }
    }
}

/// Whether a score makes an account a member of the network (`map::CONFIDENT_SCORE`).
pub fn member(score: f64) -> bool {
    score >= CONFIDENT_SCORE
}

/// The role of a record's code.
pub fn role(code: u8) -> NetworkRole {
    role_of_code(code)
}
