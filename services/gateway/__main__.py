from services.gateway.app import create_service
from shared.runtime.service import main

main(create_service)
