//! Where the dataflow runs: workers per process, processes, this process's index and the
//! addresses of all processes, turned into timely's own configuration.
//!
//! What it is for: timely's `-w/-n/-p/-h` options, built from our own arguments rather
//! than from timely's parser (the CLI owns its flags). What it must never do: open a
//! socket (timely does, when the dataflow starts).

use crate::error::DataflowError;

/// The shape of a dataflow run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Worker threads per process (timely `-w`).
    pub workers: usize,
    /// Processes (timely `-n`).
    pub processes: usize,
    /// This process, `0..processes` (timely `-p`); process 0 collects the results.
    pub process: usize,
    /// `host:port` of every process in order (timely's hostfile); empty for one process.
    pub addresses: Vec<String>,
}

impl ClusterConfig {
    /// One process with `workers` threads.
    pub fn local(workers: usize) -> ClusterConfig {
        ClusterConfig {
            workers,
            processes: 1,
            process: 0,
            addresses: Vec::new(),
        }
    }

    /// Process `process` of `processes` on this machine, listening on `base_port + i`.
    pub fn loopback(
        workers: usize,
        processes: usize,
        process: usize,
        base_port: u16,
    ) -> ClusterConfig {
        ClusterConfig {
            workers,
            processes,
            process,
            addresses: (0..processes)
                .map(|i| format!("127.0.0.1:{}", usize::from(base_port) + i))
                .collect(),
        }
    }

    /// Total workers across processes.
    pub fn peers(&self) -> usize {
        self.workers * self.processes
    }

    /// Whether this process collects the results.
    pub fn is_driver(&self) -> bool {
        self.process == 0
    }

    /// Timely's configuration for this process.
    pub fn timely_config(&self) -> Result<timely::Config, DataflowError> {
        if self.workers == 0 {
            return Err(DataflowError::Cluster("workers must be at least 1".into()));
        }
        if self.processes == 0 || self.process >= self.processes {
            return Err(DataflowError::Cluster(format!(
                "process {} is not in 0..{}",
                self.process, self.processes
            )));
        }
        let communication = if self.processes == 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            if self.addresses.len() != self.processes {
                return Err(DataflowError::Cluster(format!(
                    "{} processes need {} addresses, got {}",
                    self.processes,
                    self.processes,
                    self.addresses.len()
                )));
            }
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses: self.addresses.clone(),
                report: false,
                zerocopy: false,
            }
        };
        Ok(timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        })
    }
}

/// Reads a hostfile: one `host:port` per process, in process order (blank lines and `#`
/// comments skipped).
pub fn parse_hostfile(text: &str, origin: &str) -> Result<Vec<String>, DataflowError> {
    let mut addresses = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |problem: String| DataflowError::Hostfile {
            origin: origin.to_string(),
            line: index + 1,
            problem,
        };
        let Some((host, port)) = line.rsplit_once(':') else {
            return Err(bad(format!("`{line}` is not host:port")));
        };
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad(format!(
                "`{line}` is not host:port with a port 0-65535"
            )));
        }
        addresses.push(line.to_string());
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostfiles_and_configs() {
        assert_eq!(
            parse_hostfile("# hosts\n127.0.0.1:2101\n\nhost-b:2102\n", "h"),
            Ok(vec![
                "127.0.0.1:2101".to_string(),
                "host-b:2102".to_string()
            ])
        );
        assert_eq!(
            parse_hostfile("a:1\nb\n", "hosts.txt").map_err(|e| e.to_string()),
            Err("hosts.txt:2: `b` is not host:port".to_string())
        );
        assert!(ClusterConfig::local(2).timely_config().is_ok());
        assert!(ClusterConfig::local(0).timely_config().is_err());
        let mut two = ClusterConfig::loopback(1, 2, 1, 4000);
        assert_eq!(two.addresses, ["127.0.0.1:4000", "127.0.0.1:4001"]);
        assert!(two.timely_config().is_ok());
        two.addresses.pop();
        assert!(two.timely_config().is_err());
        assert!(
            ClusterConfig::loopback(1, 2, 2, 4000)
                .timely_config()
                .is_err()
        );
    }
}
