/**
 * Creates a blob container on a local Azurite served over HTTPS. Run as its own process with
 * NODE_EXTRA_CA_CERTS naming the certificate, which Node reads only at start: the process
 * that starts the stack keeps trusting only the usual authorities.
 *   node --import tsx stack/services/create-container-main.ts <account url> <container>
 */
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY } from './azurite-accounts';

const [url, container] = process.argv.slice(2);
new BlobServiceClient(url, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY))
  .getContainerClient(container)
  .createIfNotExists()
  .catch((err: unknown) => {
    console.error(`cannot create container ${container} at ${url}: ${(err as Error).message}`);
    process.exit(1);
  });
