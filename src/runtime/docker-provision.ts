// Creating a node's container when compose was not used (`/cluster up`): the image check, and the
// network, volumes and container with the names, labels and mounts docker-compose.yml gives them.
import type Docker from 'dockerode';
import type { Config, NodeConfig } from '../config.js';
import { UserError } from '../errors.js';
import { ensureBindVolume, isNotFound } from './docker-engine.js';
import { FENCE_MOUNT } from './docker-fence.js';

/** The node's data volume in the container. */
export const VOLUME = '/var/lib/postgresql/data';
/** The bot's BACKUP_DIR in the nodes. */
export const BACKUPS = '/backups';
/** TLS_DIR in the nodes: the cluster CA; each node issues its certificate there (postgres/tls.sh). */
const TLS_MOUNT = '/tls';

export const serviceOf = (node: NodeConfig | string) => `postgresql-${typeof node === 'string' ? node : node.name}`;

export class DockerProvisioner {
  constructor(
    private readonly docker: Docker,
    private readonly config: Config,
    private readonly project: string,
  ) {}

  get networkName(): string {
    return `${this.project}_postgresql-network`;
  }

  volumeName(what: string): string {
    return `${this.project}_${what}`;
  }

  async ensureImage(): Promise<void> {
    try {
      await this.docker.getImage(this.config.DOCKER_IMAGE).inspect();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new UserError(
        `the PostgreSQL image ${this.config.DOCKER_IMAGE} is not on this engine`,
        'build it: bash scripts/docker-prereqs.sh (works without a registry), or docker-compose build',
        'prerequisite',
      );
    }
  }

  private labels(extra: Record<string, string>): Record<string, string> {
    return { 'com.docker.compose.project': this.project, 'clusterbot.managed': 'true', ...extra };
  }

  private async ensureNetwork(): Promise<void> {
    try {
      await this.docker.getNetwork(this.networkName).inspect();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.docker.createNetwork({
        Name: this.networkName,
        Driver: 'bridge',
        IPAM: { Driver: 'default', Config: [{ Subnet: this.config.DOCKER_SUBNET }] },
        Labels: this.labels({ 'com.docker.compose.network': 'postgresql-network' }),
      });
    }
  }

  async ensureVolume(what: string): Promise<string> {
    const name = this.volumeName(what);
    try {
      await this.docker.getVolume(name).inspect();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.docker.createVolume({ Name: name, Labels: this.labels({ 'com.docker.compose.volume': what }) });
    }
    return name;
  }

  /**
   * A bind of one of the bot's folders, mounted in every node: the backups volume (BACKUP_DIR at
   * /backups, so the WAL archive and the backups the nodes write are the bot's files), the fence
   * directory (read-only at /fence, see docker-fence.ts) and TLS_DIR (at /tls: the CA a node signs its
   * certificate with and verifies its peers by).
   */
  private bindVolume(what: string, dir: string, opts?: { mode: number; owner: boolean }): Promise<string> {
    return ensureBindVolume(this.docker, this.volumeName(what), dir, this.labels({ 'com.docker.compose.volume': what }), opts);
  }

  /** The node's container, created and started; `freshData` hears the name of its data volume first. */
  async createContainer(node: NodeConfig, env: Record<string, string>, freshData: (volume: string) => void): Promise<Docker.Container> {
    await this.ensureImage();
    await this.ensureNetwork();
    const data = await this.ensureVolume(`${serviceOf(node)}-data`);
    freshData(data);
    const backups = await this.bindVolume('postgresql-backups', this.config.backupDir);
    const fence = await this.bindVolume('postgresql-fence', this.config.fenceDir, { mode: 0o755, owner: false });
    const tls = await this.bindVolume('postgresql-tls', this.config.tlsDir, { mode: 0o755, owner: false });
    const publish = /^[\d.]+$|^localhost$/.test(node.host);
    const bindIp = node.host === 'localhost' ? '127.0.0.1' : node.host;
    const service = serviceOf(node);
    const container = await this.docker.createContainer({
      name: `${this.project}_${service}_1`,
      Image: this.config.DOCKER_IMAGE,
      Hostname: service,
      Labels: this.labels({ 'com.docker.compose.service': service, 'com.docker.compose.container-number': '1', 'com.docker.compose.oneoff': 'False' }),
      Env: Object.entries({
        CLUSTERBOT_NODE: node.name,
        CLUSTERBOT_ALLOWED_CIDR: this.config.DOCKER_SUBNET,
        POSTGRES_ADMIN_USER: this.config.POSTGRES_ADMIN_USER,
        POSTGRES_ADMIN_PASSWORD: this.config.POSTGRES_ADMIN_PASSWORD,
        POSTGRES_REPLICATOR_PASSWORD: this.config.POSTGRES_REPLICATOR_PASSWORD,
        PG_DATABASE: this.config.PG_DATABASE,
        BACKUP_STANZA: this.config.BACKUP_STANZA,
        BACKUP_COMPRESS_TYPE: this.config.BACKUP_COMPRESS_TYPE,
        // The certificate also names the address its port is published on (how the bot reaches it).
        CLUSTERBOT_TLS_HOSTS: node.host,
        CLUSTERBOT_TLS_DAYS: String(this.config.TLS_CERT_DAYS),
        ...env,
      }).map(([k, v]) => `${k}=${v}`),
      ExposedPorts: { '5432/tcp': {} },
      HostConfig: {
        Binds: [`${data}:${VOLUME}`, `${backups}:${BACKUPS}`, `${fence}:${FENCE_MOUNT}:ro`, `${tls}:${TLS_MOUNT}`],
        PortBindings: publish ? { '5432/tcp': [{ HostIp: bindIp, HostPort: String(node.port) }] } : undefined,
        RestartPolicy: { Name: 'unless-stopped' },
        NetworkMode: this.networkName,
      },
      NetworkingConfig: { EndpointsConfig: { [this.networkName]: { Aliases: [service] } } },
    });
    await container.start();
    return container;
  }
}
