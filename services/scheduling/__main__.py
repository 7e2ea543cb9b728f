from services.scheduling.app import create_service
from shared.service import main

main(create_service)
